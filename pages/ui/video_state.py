"""Which analysis job this tab follows, and which analysis it shows: shared by the Videos page and the site's
video page (a job started there is followed on Studio › Videos, in the same session).

The analysis shown is in the URL (`?analysis=ID`), so a link from the video page or a person's page opens it.
"""

from __future__ import annotations

import streamlit as st

from pages.ui.components import query_id

VIDEOS_PAGE = "pages/studio_videos.py"
JOB_KEY = "video_job"  # the job this tab follows
POLLING_KEY = "video_job-polling"  # set while the progress panel polls a running job
OPEN_PARAM = "analysis"
JOB_PARAM = "job"  # the History page opens a job's result with ?job=ID


def follow(job_id: int) -> None:
    """Follow `job_id` (a new analysis) in the progress panel."""
    st.session_state[JOB_KEY] = job_id
    st.session_state.pop(POLLING_KEY, None)


def followed() -> int | None:
    return st.session_state.get(JOB_KEY)


def stop_following() -> None:
    st.session_state.pop(JOB_KEY, None)
    st.session_state.pop(POLLING_KEY, None)


def opened() -> int | None:
    """The analysis named in the URL, if any."""
    return query_id(OPEN_PARAM)


def open_analysis(analysis_id: int) -> None:
    st.query_params[OPEN_PARAM] = str(analysis_id)


def close_analysis() -> None:
    st.query_params.pop(OPEN_PARAM, None)


def job_in_url() -> int | None:
    """The job named by `?job=ID` (a link from the History page), taken out of the URL."""
    return query_id(JOB_PARAM, take=True)


def link_params(analysis_id: int) -> dict[str, str]:
    """Query parameters for `st.page_link(VIDEOS_PAGE, ...)` that open `analysis_id`."""
    return {OPEN_PARAM: str(analysis_id)}
