"""The video page's note while a video's details are missing because its site could not be reached."""

from __future__ import annotations

import streamlit as st

from core.videos.details import details_notice as notice_for


def details_notice(video_id: int) -> None:
    """Says why the title, length or thumbnail may be missing, and that WebTube tries again (the check is cheap)."""
    message = notice_for(video_id)
    if message:
        st.info(message, icon=":material/cloud_off:")
