"""System (admins only): processing speed, jobs by status, queue depth, CPU, memory and GPU over time.

The history is this server process's sampler (core/monitoring/system.py); the charts redraw each
time a new sample is due, without rerunning the rest of the app.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta

import pandas as pd
import streamlit as st

from core.monitoring.system import SystemView, system_view
from pages.ui.components import md
from pages.ui.session import require_member

user = require_member()  # before anything else: a direct run of this file shows visitors nothing
if not user.is_admin:
    st.warning("The System page is for administrators only.", icon=":material/block:")
    st.stop()

st.title("System", anchor=False)
st.caption(
    "CPU, memory, GPU and speed are this server process's; jobs and the queue are the database's, so they "
    "include every worker. A `python -m core worker` process serves its own figures on its metrics port."
)


def _chart(title: str, frame: pd.DataFrame, columns: dict[str, str]) -> None:
    st.subheader(title, anchor=False)
    st.line_chart(frame[list(columns)].rename(columns=columns))


def _draw(view: SystemView) -> None:
    table = pd.DataFrame([asdict(sample) for sample in view.samples]).set_index("at")
    latest = view.samples[-1]
    counts = st.columns(len(latest.jobs) + 1)
    counts[0].metric("Queue depth", "?" if latest.queue_depth is None else latest.queue_depth)
    for column, (status, count) in zip(counts[1:], latest.jobs.items(), strict=True):
        column.metric(f"Jobs {status}", count)
    _chart("Processing speed", table, {"photos_per_s": "Photos/s", "frames_per_s": "Video frames/s",
                                       "items_per_s": "Job items/s"})
    st.subheader("Jobs by status", anchor=False)
    st.line_chart(pd.DataFrame([sample.jobs for sample in view.samples], index=table.index))
    _chart("Queue depth", table, {"queue_depth": "Jobs waiting"})
    _chart("CPU (%)", table, {"cpu_percent": "This process (of one core)", "machine_cpu_percent": "Machine"})
    _chart("Memory (MB)", table, {"rss_mb": "This process (resident)"})
    if table["gpu_mb"].notna().any():
        _chart("GPU memory (MB)", table, {"gpu_mb": "Held by this process"})
    where = f"Prometheus metrics: {view.metrics_url}" if view.metrics_url else (
        "Prometheus metrics are off (set WEBTUBE_METRICS_PORT to serve them).")
    st.caption(md(where) + (f" · Log file: {md(str(view.log_file))}" if view.log_file else ""))


first = system_view()


@st.fragment(run_every=timedelta(seconds=first.interval_s))
def _live() -> None:
    _draw(system_view())


_live()
