"""The video page's download: one link when the server already holds the file, fetch-then-save only when it does not.

The file is saved through a signed, expiring link (`core.videos.downloads.save_link`) that streams it
from the download cache, so the size is known before the click whenever the file is there.
"""

from __future__ import annotations

import streamlit as st

from core.videos.downloads import DownloadedFile, DownloadFailed, cached_download, download_video, save_link
from core.videos.records import VideoDetail
from pages.ui.components import SIGN_IN, md
from pages.ui.session import current_user


def size_text(num_bytes: int) -> str:
    return f"{num_bytes / 1e6:.1f} MB" if num_bytes >= 100_000 else f"{max(num_bytes // 1000, 1)} kB"


def _save(saved: DownloadedFile, verb: str) -> None:
    st.link_button(
        f"{verb} {md(saved.file_name)} ({size_text(saved.size)})",
        save_link(saved, st.get_option("server.baseUrlPath")),
        icon=":material/download:",
        type="primary",
    )


def _fetch(detail: VideoDetail) -> DownloadedFile | None:
    """Fetch into the server's cache with a progress bar; None (and the reason on the page) when it fails."""
    bar = st.progress(0.0, text="Starting the download…")
    shown = [0.0]

    def report(fraction: float | None, message: str) -> None:
        if fraction is not None:
            shown[0] = min(max(fraction, 0.0), 1.0)
        bar.progress(shown[0], text=message)

    try:
        return download_video(detail.card.id, progress=report)
    except DownloadFailed as exc:
        bar.empty()
        st.error(str(exc))
        return None


def download_panel(detail: VideoDetail) -> None:
    """Members download; visitors get a link to sign in."""
    if current_user() is None:
        st.page_link(SIGN_IN, label="Sign in to download this video", icon=":material/download:")
        return
    ready = cached_download(detail.card.id)
    if ready is not None:
        _save(ready, "Download")
        return
    reported = f" (about {size_text(detail.size_bytes)})" if detail.size_bytes else ""
    if st.button(f"Download{reported}", icon=":material/download:"):
        fetched = _fetch(detail)
        if fetched is not None:
            _save(fetched, "Save")
    else:
        st.caption(f"The server first fetches the video from {md(detail.card.site)}; then you save it.")
