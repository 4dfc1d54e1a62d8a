""" "People in this video" on the site's video page: who the signed-in member's latest analysis of it found, and
when; without one, a button that starts it (followed on Studio › Videos). Analyses are each member's own,
matched against their own people, so a visitor sees nothing here."""

from __future__ import annotations

import streamlit as st

from core.jobs import queue
from core.studio.errors import StudioError
from core.video_analysis import results
from pages.ui import video_state
from pages.ui.session import current_user
from pages.ui.video_results import people_grid

SITE_COLUMNS = 4
KIND = "video_analysis"  # the job kind (core/jobs/kinds.py)


def _running_analysis(owner_id: int, video_id: int) -> int | None:
    """The member's queued or running analysis of this video, if any."""
    jobs = queue.recent_jobs(owner_id, kind=KIND, limit=20)
    return next((j.id for j in jobs if not j.finished and j.params.get("video_id") == video_id), None)


def _start(owner_id: int, video_id: int) -> None:
    from core.video_analysis import job  # only when asked: the module brings in the face engine

    try:
        video_state.follow(job.start_analysis(owner_id, video_id=video_id))
    except StudioError as exc:
        st.session_state["video-site-error"] = str(exc)


def _offer(owner_id: int, video_id: int) -> None:
    running = _running_analysis(owner_id, video_id)
    if running is not None:
        st.caption("The faces of this video are being analysed.")
        st.page_link(video_state.VIDEOS_PAGE, label="Follow it in Studio › Videos", icon=":material/movie:")
        return
    st.button("Analyse faces in this video", icon=":material/face:", on_click=_start, args=(owner_id, video_id))
    if error := st.session_state.pop("video-site-error", None):
        st.error(error)


def people_in_video(video_id: int) -> None:
    """The section, for a signed-in member only."""
    user = current_user()
    if user is None:
        return
    st.subheader("People in this video", anchor=False)
    analyses = results.analyses_of_video(user.id, video_id)
    if not analyses:
        _offer(user.id, video_id)
        return
    try:
        info = results.get_analysis(user.id, analyses[0].id)
    except StudioError:  # deleted between the two reads
        return
    if info.people:
        people_grid(None, info.people, columns=SITE_COLUMNS)
    else:
        st.caption(info.message or "Nobody was found in this video.")
    st.page_link(
        video_state.VIDEOS_PAGE,
        label="Open the analysis in Studio › Videos",
        icon=":material/movie:",
        query_params=video_state.link_params(info.id),
    )
