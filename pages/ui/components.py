"""Widgets and helpers more than one page uses: cards, category links, dates, flashes, user text.

Everything people typed (titles, names, comments) is shown as text: `md` escapes it for the
widgets whose labels are Markdown, and comments go through `st.text`. No user text ever meets
`unsafe_allow_html`.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import streamlit as st
from streamlit.runtime.media_file_storage import MediaFileStorageError

from core.videos.records import CategoryInfo, VideoCard
from core.videos.thumbnails import cached_thumbnail

FEED = "pages/feed.py"
WATCH = "pages/watch.py"
SHARE = "pages/share.py"
PROFILE = "pages/profile.py"
SIGN_IN = "pages/sign_in.py"
REGISTER = "pages/register.py"
AUTHOR = "pages/author.py"

_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=&])")
# GFM turns bare addresses into links even when escaped; an invisible word joiner breaks the patterns.
_AUTOLINKS = re.compile(r"(?<=@)|(?<=www)(?=\.)|(?<=:)(?=//)", re.IGNORECASE)
NO_THUMBNAIL = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 320 180">'
    '<rect width="320" height="180" fill="#2b2f3a"/>'
    '<polygon points="140,65 140,115 185,90" fill="#c9ccd3"/></svg>'
)


def md(text: str) -> str:
    """`text` escaped so a Markdown label shows it literally: no links, images, emphasis, HTML or colours."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", _AUTOLINKS.sub("\u2060", text))


def flash(message: str) -> None:
    """A success message shown once, on the next page the person sees."""
    st.session_state["flash"] = message


def show_flash() -> None:
    message = st.session_state.pop("flash", None)
    if message:
        st.success(message)


def when(moment: datetime) -> str:
    """A date in the browser's time zone (UTC when the browser does not say), like '22 Nov 2026'."""
    try:
        zone = ZoneInfo(st.context.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = moment.astimezone(zone)
    return f"{local.day} {local:%b %Y}"


def duration(seconds: int | None) -> str:
    if not seconds:
        return ""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def byline(card: VideoCard) -> str:
    """'22 Nov 2026 · 3:05', escaped for a Markdown caption (the author is a link beside it: `author_byline`)."""
    parts = [when(card.created_at), duration(card.duration_s)]
    return " · ".join(md(part) for part in parts if part)


def author_byline(card: VideoCard, extra: str = "") -> None:
    """The author as a link to their page, then the date and length, and `extra` (already escaped)."""
    with st.container(horizontal=True, gap="small", vertical_alignment="center"):
        st.page_link(AUTHOR, label=md(card.author_name), query_params={"id": str(card.author_id)})
        st.caption(" · ".join(part for part in (byline(card), extra) if part))


def category_links(categories: tuple[CategoryInfo, ...]) -> None:
    """Each category as a link to the feed filtered by it."""
    if not categories:
        return
    with st.container(horizontal=True, gap="small"):
        for category in categories:
            st.page_link(
                FEED, label=md(category.name), icon=":material/sell:", query_params={"category": category.slug}
            )


# A card waits this long for a thumbnail not fetched yet (fetches run in parallel), then shows the placeholder.
CARD_THUMBNAIL_WAIT_S = 0.3


def thumbnail(card: VideoCard, wait_s: float = 0.0) -> None:
    """The server's cached copy of the card's thumbnail, checked readable there, or the local placeholder: never
    the remote URL itself, so a card never shows a broken image (st.image has no onerror to fall back with)."""
    cached = cached_thumbnail(card.thumbnail_url, wait_s=wait_s)
    try:
        st.image(str(cached) if cached is not None else NO_THUMBNAIL, width="stretch")
    except MediaFileStorageError:  # removed between the check and the read (the cache was cleared)
        st.image(NO_THUMBNAIL, width="stretch")


def video_card(card: VideoCard, key: str | None = None) -> None:
    """A feed card: thumbnail, title linking to the video page, author (a link to their page) and date, categories."""
    with st.container(border=True, key=key):
        thumbnail(card, wait_s=CARD_THUMBNAIL_WAIT_S)
        st.page_link(WATCH, label=f"**{md(card.title)}**", query_params={"v": str(card.id)})
        author_byline(card)
        category_links(card.categories)


def video_grid(cards: list[VideoCard]) -> None:
    """Cards in one wrapping row: three across on a wide screen, two on a phone (`pages.ui.layout`'s CSS)."""
    with st.container(horizontal=True, gap="small", key="video_grid"):
        for card in cards:
            video_card(card, key=f"video_card_{card.id}")
