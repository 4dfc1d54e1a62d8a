"""Studio › Videos: analyse the faces of a video (an upload or a video shared on the site), follow the job, and
see who appears when: the people with their thumbnails, a timeline, the annotated video and the JSON."""

from __future__ import annotations

import streamlit as st

from core.jobs import queue
from core.studio.errors import StudioError
from core.video_analysis import results
from pages.ui import video_state
from pages.ui.components import show_flash
from pages.ui.session import require_member
from pages.ui.video_list import analyses_list
from pages.ui.video_progress import job_panel
from pages.ui.video_results import results_view
from pages.ui.video_start import start_form

user = require_member()  # before anything else: a direct run of this file shows visitors nothing


def _open_from_history() -> None:
    """`?job=ID` from the History page: a finished job's analysis opens, a running one is followed."""
    job_id = video_state.job_in_url()
    if job_id is None:
        return
    try:
        if not queue.job_info(user.id, job_id).finished:
            video_state.follow(job_id)
            return
        video_state.open_analysis(results.analysis_for_job(user.id, job_id).id)
    except StudioError:
        st.error("This job left no analysis to show: it failed, was cancelled, or the analysis was deleted.")


def _adopt_running_job() -> None:
    """A tab opened while an analysis runs (started elsewhere, or resumed after a restart) shows its progress."""
    if video_state.followed() is None:
        running = [job for job in queue.recent_jobs(user.id, kind="video_analysis", limit=5) if not job.finished]
        if running:
            video_state.follow(running[0].id)


st.title("Videos", anchor=False)
st.caption("Who appears in a video, and when: faces are found, followed and named from your people.")
show_flash()
_open_from_history()
_adopt_running_job()
opened = video_state.opened()
with st.expander("Analyse a video", icon=":material/movie:", expanded=opened is None):
    start_form(user.id)
job_panel(user.id)
if opened is not None:
    results_view(user.id, opened)
analyses_list(user.id)
