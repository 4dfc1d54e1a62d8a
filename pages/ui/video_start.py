"""Starting a video analysis: an uploaded file (MP4, WebM, MOV) or a video shared on the site, and how many
frames a second to analyse. The core stages and probes the file first, so a bad one is one sentence here
and nothing is queued."""

from __future__ import annotations

import streamlit as st

from core.config import get_settings
from core.studio.errors import StudioError
from core.videos.feed import feed_page
from pages.ui import video_state

UPLOAD_TYPES = ["mp4", "webm", "mov"]
SITE_VIDEOS = 200  # the newest shared videos offered in the list (it is searchable by typing)
MIN_FPS = 0.2  # one frame in five seconds; lower only if the setting is lower
MAX_FPS = 30.0  # the setting's own bound (core/config.py: video_sample_fps)


def _rate(key: str) -> float:
    default = get_settings().video_sample_fps
    return st.number_input(
        "Frames analysed per second of video",
        min_value=min(MIN_FPS, default),
        max_value=MAX_FPS,
        value=float(default),
        step=1.0,
        key=key,
        help="More frames find faces that show briefly, and take longer.",
    )


def _started(job_id: int) -> None:
    video_state.close_analysis()
    video_state.follow(job_id)


def _upload_form(owner_id: int) -> None:
    with st.form("video-upload", clear_on_submit=True):
        upload = st.file_uploader(
            "A video file (MP4, WebM or MOV)", type=UPLOAD_TYPES, max_upload_size=get_settings().video_max_mb
        )
        fps = _rate("video-upload-fps")
        if st.form_submit_button("Analyse the upload", icon=":material/upload:", type="primary"):
            if upload is None:
                st.error("Choose a video file to analyse.")
                return
            from core.video_analysis import job  # only when asked: the module brings in the face engine

            try:
                staged = job.stage_upload(owner_id, upload.name, upload)
                _started(job.start_analysis(owner_id, upload_path=staged, fps=fps))
            except StudioError as exc:
                st.error(str(exc))


def _site_form(owner_id: int) -> None:
    videos = feed_page(1, page_size=SITE_VIDEOS).items
    if not videos:
        st.caption("No video is shared on the site yet.")
        return
    titles = {video.id: f"{video.title} ({video.author_name})" for video in videos}
    with st.form("video-site"):
        video_id = st.selectbox("Video on the site", list(titles), format_func=titles.__getitem__)
        fps = _rate("video-site-fps")
        if st.form_submit_button("Analyse the video", icon=":material/smart_display:", type="primary"):
            from core.video_analysis import job

            try:
                _started(job.start_analysis(owner_id, video_id=video_id, fps=fps))
            except StudioError as exc:
                st.error(str(exc))


def start_form(owner_id: int) -> None:
    """The two ways in, as tabs; a started analysis is followed by `video_progress.job_panel`."""
    upload_tab, site_tab = st.tabs(["Upload a video", "A video on the site"])
    with upload_tab:
        _upload_form(owner_id)
    with site_tab:
        _site_form(owner_id)
