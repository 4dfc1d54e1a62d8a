"""The import progress panel: photos done of total, faces found, photos per second, time left, Cancel, and the report.

It polls the job system (core.jobs.queue) once a second in an `st.fragment`, so only the panel reruns while the
import works in the background; when the job ends the whole page reruns once (the library grid then
shows the new photos) and the panel stops polling.
"""

from __future__ import annotations

import streamlit as st

from core.jobs import queue
from core.jobs.records import FINISHED, JobInfo
from core.studio import jobs
from core.studio.errors import StudioError
from pages.ui.components import md
from pages.ui.studio_words import counted, time_left

JOB_KEY = "studio_job"
PHOTO_IMPORTS = ("import", "cloud_import")  # the job kinds this panel follows


def progress_words(info: JobInfo) -> str:
    """'12 of 40 photos · 31 faces · 2.5 photos/s · about 11 s left' (what a cloud import is doing while it lists)."""
    if info.total == 0 and info.stage and info.status not in FINISHED:
        return info.stage
    parts = [f"{info.done} of {info.total} photos", counted(info.faces_found, "face")]
    if info.failures:
        parts.append(f"{info.failures} failed")
    if info.items_per_s:
        parts.append(f"{info.items_per_s:.1f} photos/s")
    if info.status not in FINISHED and (left := time_left(info.eta_s)):
        parts.append(left)
    return " · ".join(parts)


def _report(owner_id: int, info: JobInfo) -> None:
    verdict = {"done": st.success, "cancelled": st.warning, "failed": st.error}[info.status]
    headline = {"done": "Import finished", "cancelled": "Import cancelled", "failed": "Import stopped"}[info.status]
    verdict(f"{headline}: {progress_words(info)}." + (f" {info.error}" if info.error else ""))
    failed = jobs.job_items(owner_id, info.id, status="failed")
    if failed:
        with st.expander(f"{counted(len(failed), 'file')} could not be imported", expanded=len(failed) <= 10):
            st.table([{"file": item.original_name, "from": item.origin, "why": item.message or ""} for item in failed])


def _panel(owner_id: int, job_id: int) -> None:
    try:
        info = queue.job_info(owner_id, job_id)
    except StudioError:
        st.session_state.pop(JOB_KEY, None)
        return
    if info.status in FINISHED:
        if st.session_state.get(f"{JOB_KEY}-polling") == job_id:  # it ended while we polled: refresh the page once
            st.session_state.pop(f"{JOB_KEY}-polling")
            st.rerun(scope="app")
        _report(owner_id, info)
        st.button("Dismiss", key="studio-job-dismiss", on_click=st.session_state.pop, args=(JOB_KEY, None))
        return
    st.session_state[f"{JOB_KEY}-polling"] = job_id
    st.progress(info.done / info.total if info.total else 0.0, text=md(progress_words(info)))
    if st.button("Cancel import", key="studio-job-cancel", icon=":material/cancel:"):
        queue.cancel_job(owner_id, job_id)
        st.caption("Cancelling after the photo in hand...")


def job_panel(owner_id: int) -> None:
    """Progress of this tab's latest import (session_state[JOB_KEY]), polled once a second while it runs."""
    job_id = st.session_state.get(JOB_KEY)
    if job_id is None:
        return
    try:
        running = queue.job_info(owner_id, job_id).status not in FINISHED
    except StudioError:
        st.session_state.pop(JOB_KEY, None)
        return
    with st.container(border=True):
        st.fragment(_panel, run_every=1 if running else None)(owner_id, job_id)
