"""The video page (`?v=ID`): player, title, author, categories, the comment as text, download, similar videos."""

from __future__ import annotations

import streamlit as st

from core.videos.downloads import DownloadedFile, DownloadFailed, download_video, save_link
from core.videos.records import VideoDetail
from core.videos.sharing import VideoNotFound, get_video
from core.videos.similar import similar_videos
from core.videos.thumbnails import cached_thumbnail
from core.videos.urls import safe_for_viewers
from pages.ui.components import FEED, SIGN_IN, byline, category_links, md, show_flash, thumbnail, video_card
from pages.ui.session import current_user


def _video_id() -> int | None:
    raw = st.query_params.get("v", "")
    return int(raw) if raw.isdigit() else None


def _player(detail: VideoDetail) -> None:
    player = detail.player
    file_url = safe_for_viewers(player.url) if player.kind == "file" else None
    if player.kind == "youtube":
        st.video(player.url, start_time=player.start_s)
    elif file_url is not None:
        st.video(file_url)
    else:
        thumbnail(detail.card, wait_s=2.0)
        st.caption(f"This site's videos cannot be played here; watch it on {md(detail.card.site)}.")


def _size(num_bytes: int) -> str:
    return f"{num_bytes / 1e6:.1f} MB" if num_bytes >= 100_000 else f"{max(num_bytes // 1000, 1)} kB"


def _download(detail: VideoDetail) -> None:
    """Fetch into the server's cache with a progress bar, then offer a link that streams it from disk."""
    if current_user() is None:
        st.page_link(SIGN_IN, label="Sign in to download this video", icon=":material/download:")
        return
    ready: dict[int, DownloadedFile] = st.session_state.setdefault("downloads", {})
    if detail.card.id not in ready and st.button("Download", icon=":material/download:"):
        bar = st.progress(0.0, text="Starting the download…")
        shown = [0.0]

        def report(fraction: float | None, message: str) -> None:
            if fraction is not None:
                shown[0] = min(max(fraction, 0.0), 1.0)
            bar.progress(shown[0], text=message)

        try:
            ready[detail.card.id] = download_video(detail.card.id, progress=report)
        except DownloadFailed as exc:
            bar.empty()
            st.error(str(exc))
    saved = ready.get(detail.card.id)
    if saved is not None and saved.path.is_file():
        st.link_button(
            f"Save {md(saved.file_name)} ({_size(saved.size)})",
            save_link(saved, st.get_option("server.baseUrlPath")),
            icon=":material/save_alt:",
            type="primary",
        )


show_flash()
video_id = _video_id()
try:
    if video_id is None:
        raise VideoNotFound("This link does not point to a video.")
    detail = get_video(video_id)
except VideoNotFound as exc:
    st.error(str(exc))
    st.page_link(FEED, label="Back to all videos", icon=":material/home:")
    st.stop()

cached_thumbnail(detail.card.thumbnail_url)  # fetch it now (in the background) for the cards that will show it
main, side = st.columns([2, 1], gap="large")
with main:
    _player(detail)
    st.header(md(detail.card.title), anchor=False)
    source = md(detail.card.site) + (f" (by {md(detail.uploader)})" if detail.uploader else "")
    st.caption(f"{byline(detail.card)} · {source}")
    category_links(detail.card.categories)
    if detail.comment:
        st.text(detail.comment)
    st.link_button("Open the original", detail.original_url, icon=":material/open_in_new:")
    _download(detail)
with side:
    st.subheader("Similar videos", anchor=False)
    for card in similar_videos(detail.card.id):
        video_card(card)
