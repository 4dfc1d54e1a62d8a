"""Studio › History: every job of the person (imports, re-embedding, video analyses) with its status, progress
and duration; open the result, retry a failed one, cancel a running one, delete a finished one."""

from __future__ import annotations

import streamlit as st

from core.jobs import kinds, queue
from core.jobs.records import JobInfo
from core.studio.errors import StudioError
from pages.ui.components import flash, md, show_flash
from pages.ui.session import require_member
from pages.ui.studio_jobs import PHOTO_IMPORTS
from pages.ui.studio_words import time_left

user = require_member()  # before anything else: a direct run of this file shows visitors nothing

STATUS_WORDS = {"queued": "Waiting", "running": "Running", "done": "Done", "failed": "Failed", "cancelled": "Cancelled"}
STATUS_ICONS = {"queued": ":material/schedule:", "running": ":material/autorenew:", "done": ":material/check_circle:",
                "failed": ":material/error:", "cancelled": ":material/cancel:"}


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "not started"
    if seconds < 60:
        return f"{seconds:.1f} s"
    return f"{int(seconds // 60)} min {round(seconds % 60)} s"


def _act(action, job: JobInfo, done_words: str) -> None:
    try:
        action(user.id, job.id)
    except StudioError as exc:
        st.error(str(exc))
    else:
        flash(done_words)
        st.rerun()


def _open(job: JobInfo) -> None:
    """The job's result where it lives: the album of an import, the analysis of a video."""
    if job.kind in PHOTO_IMPORTS and job.album_id is not None:
        st.session_state["lib-album"] = job.album_id
        st.switch_page("pages/studio_library.py")
    elif job.kind == "video_analysis":
        st.switch_page("pages/studio_videos.py", query_params={"job": job.id})


def _row(job: JobInfo) -> None:
    with st.container(border=True):
        head, actions = st.columns([3, 2])
        with head:
            st.markdown(f"{STATUS_ICONS[job.status]} **{md(kinds.label(job.kind))}** · {STATUS_WORDS[job.status]}")
            st.caption(f"Job {job.id} · started {job.created_at:%Y-%m-%d %H:%M} UTC · took {_duration(job.duration_s)}"
                       + (f" · attempt {job.attempts}" if job.attempts > 1 else ""))
            if not job.finished:
                words = " · ".join(w for w in (job.stage, f"{job.done} of {job.total}" if job.total else "",
                                               time_left(job.eta_s)) if w)
                st.progress(job.done / job.total if job.total else 0.0, text=md(words) or None)
            elif job.error:
                st.error(md(job.error))
            elif job.status == "done":
                st.caption(f"{job.done} of {job.total} done · {job.faces_found} faces"
                           + (f" · {job.failures} failed" if job.failures else ""))
        with actions:
            openable = job.status == "done" and job.kind in (*PHOTO_IMPORTS, "video_analysis")
            if openable and st.button("Open", key=f"job-open-{job.id}", icon=":material/open_in_new:"):
                _open(job)
            if job.status in ("failed", "cancelled") and st.button("Retry", key=f"job-retry-{job.id}",
                                                                    icon=":material/replay:"):
                _act(queue.retry_job, job, f"Job {job.id} is queued again.")
            if not job.finished and st.button("Cancel", key=f"job-cancel-{job.id}", icon=":material/cancel:"):
                _act(queue.cancel_job, job, f"Job {job.id} is being cancelled.")
            if job.finished and st.button("Delete", key=f"job-delete-{job.id}", icon=":material/delete:"):
                _act(queue.delete_job, job, f"Job {job.id} is deleted from your history.")


def _history(kind: str | None) -> None:
    jobs = queue.recent_jobs(user.id, kind=kind, limit=100)
    if not jobs:
        st.info("No jobs yet: imports, video analyses and re-embedding show here.")
        return
    for job in jobs:
        _row(job)
    was_running, running = st.session_state.get("jobs-running", False), any(not job.finished for job in jobs)
    st.session_state["jobs-running"] = running
    if was_running and not running:
        st.rerun()  # the last job ended: redraw once without the timer


st.title("History")
show_flash()
kind = st.selectbox("Kind", options=[None, *kinds.KINDS],
                    format_func=lambda k: "All jobs" if k is None else kinds.label(k), key="jobs-kind")
busy = any(not job.finished for job in queue.recent_jobs(user.id, kind=kind, limit=100))
st.fragment(_history, run_every=2 if busy else None)(kind)
if busy:
    st.caption("Updating every 2 seconds while a job runs.")
