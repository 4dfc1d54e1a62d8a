"""Widgets and helpers more than one page uses: cards, category links, dates, flashes, user text.

Everything people typed (titles, names, comments) is shown as text: `md` escapes it for the
widgets whose labels are Markdown, and comments go through `st.text`. No user text ever meets
`unsafe_allow_html`.
"""

from __future__ import annotations

import re
import time
from datetime import datetime
from typing import Literal
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
RESET_PASSWORD = "pages/reset_password.py"
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


FlashKind = Literal["success", "error", "warning", "info"]
FLASH_STAY_S = 3.0  # a flash outlives a rerun a widget makes just after the page's run (a cookie write, a camera)
FLASH_KEEP_S = 10.0  # on a camera page a flash outlives the reruns the camera widget makes a moment after each run
CURRENT_PAGE = "current_page"  # app.py names the page about to run here, so a flash knows when the person moved on


def query_id(name: str, take: bool = False) -> int | None:
    """The id a link puts in the URL (`?name=ID`), or None when absent or not a number; `take` removes it."""
    raw = st.query_params.pop(name, "") if take else st.query_params.get(name, "")
    return int(raw) if raw.isdigit() else None


def flash(message: str, kind: FlashKind = "success", where: str = "page", warning: str | None = None) -> None:
    """A message for the next run: shown by the `show_flash(where)` of the page the person sees next (with an
    optional `warning` under it), so it survives the `st.rerun()` or `st.switch_page()` that follows an action."""
    st.session_state["flash"] = {"message": message, "kind": kind, "where": where, "warning": warning}


def show_flash(where: str = "page", keep_s: float = FLASH_STAY_S) -> None:
    """Show the waiting flash if it is for `where`. Once shown it stays through the reruns of the same page for
    `keep_s` seconds (longer on the pages holding a camera widget, whose reruns would wipe it within a second;
    every place of such a page passes the same `keep_s`) and goes when the person opens another page."""
    entry = st.session_state.get("flash")
    if not entry:
        return
    if isinstance(entry, str):  # pages that set the message itself
        entry = {"message": entry, "kind": "success", "where": "page", "warning": None}
    now = time.monotonic()
    page = st.session_state.get(CURRENT_PAGE)
    shown_at = entry.get("shown_at")
    if shown_at is not None and (now - shown_at > keep_s or entry.get("shown_on") != page):
        st.session_state.pop("flash", None)  # its time is over, or the person is on another page now
        return
    if entry["where"] != where:
        return
    st.session_state["flash"] = {**entry, "shown_at": shown_at or now, "shown_on": page}
    getattr(st, entry["kind"])(entry["message"])
    if entry.get("warning"):
        st.warning(entry["warning"])


def full_stop(text: str) -> str:
    """`text` ending in one full stop: a name like 'Alice L.' ends the sentence itself, never 'Alice L..'."""
    return text if text.endswith((".", "!", "?", "…")) else text + "."


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
