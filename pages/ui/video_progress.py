"""The progress of one video analysis: the stage it is in, frames done of total, speed and time left, Cancel.

It polls the job system once a second in an `st.fragment`, so only the panel reruns while the analysis
works in the background; when the job ends the whole page reruns once, opening the results (or showing
the failure as one sentence), and the panel stops polling.
"""

from __future__ import annotations

import contextlib

import streamlit as st

from core.jobs import queue
from core.jobs.records import JobInfo
from core.studio.errors import StudioError
from core.video_analysis import results
from pages.ui import video_state
from pages.ui.components import md
from pages.ui.studio_words import counted, time_left

POLL_S = 1.0


def progress_words(info: JobInfo) -> str:
    """'Finding faces · 12 of 40 frames · 3 faces · 6.1 frames/s · about 5 s left'."""
    parts = [info.stage or ("Waiting for a free worker" if info.status == "queued" else "Starting")]
    if info.total:
        parts.append(f"{info.done} of {info.total} frames")
    if info.faces_found:
        parts.append(counted(info.faces_found, "face"))
    if info.items_per_s:
        parts.append(f"{info.items_per_s:.1f} frames/s")
    if not info.finished and (left := time_left(info.eta_s)):
        parts.append(left)
    return " · ".join(parts)


def _open_results(owner_id: int, job_id: int) -> None:
    with contextlib.suppress(StudioError):  # gone meanwhile: nothing to open
        video_state.open_analysis(results.analysis_for_job(owner_id, job_id).id)
    video_state.stop_following()


def _ended(owner_id: int, info: JobInfo) -> None:
    if info.status == "done":
        st.success("The analysis is finished.")
        st.button("Open the results", key="video-job-open", on_click=_open_results, args=(owner_id, info.id))
    elif info.status == "cancelled":
        st.warning("The analysis was cancelled.")
    else:
        st.error(f"The analysis stopped: {info.error or 'no reason was given.'}")
    st.button("Dismiss", key="video-job-dismiss", on_click=video_state.stop_following)


def _panel(owner_id: int, job_id: int) -> None:
    try:
        info = queue.job_info(owner_id, job_id)
    except StudioError:
        video_state.stop_following()
        return
    if info.finished:
        if st.session_state.get(video_state.POLLING_KEY) == job_id:  # it ended while we watched: show it at once
            st.session_state.pop(video_state.POLLING_KEY)
            if info.status == "done":
                _open_results(owner_id, job_id)
            st.rerun(scope="app")
        _ended(owner_id, info)
        return
    st.session_state[video_state.POLLING_KEY] = job_id
    st.progress(min(info.done / info.total, 1.0) if info.total else 0.0, text=md(progress_words(info)))
    if st.button("Cancel analysis", key="video-job-cancel", icon=":material/cancel:"):
        queue.cancel_job(owner_id, job_id)
        st.caption("Cancelling after the frame in hand...")


def job_panel(owner_id: int) -> None:
    """Progress of the analysis this tab follows, polled while it runs."""
    job_id = video_state.followed()
    if job_id is None:
        return
    try:
        running = not queue.job_info(owner_id, job_id).finished
    except StudioError:
        video_state.stop_following()
        return
    with st.container(border=True):
        st.fragment(_panel, run_every=POLL_S if running else None)(owner_id, job_id)
