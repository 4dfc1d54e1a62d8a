"""When each person appears in an analysed video: one row per person, one bar per time range (an Altair chart).

Built from plain (name, start, end) rows in a DataFrame (Streamlit sends it as Arrow; inline Vega values lose
their rows on the way). Times are seconds from the start of the video.
"""

from __future__ import annotations

from collections.abc import Iterable

import altair as alt
import pandas as pd
import streamlit as st

from core.video_analysis.records import TimeRange

MIN_BAR_S = 0.2  # a person seen in one sampled frame still gets a visible sliver
ROW_PX = 36


def clock(seconds: float) -> str:
    """'1:05' for 65.2 s; hours only when there are some ('1:02:03')."""
    whole = max(int(seconds), 0)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def spans(ranges: Iterable[TimeRange]) -> str:
    """'0:00–0:02, 0:04–0:05': the ranges as a person reads them."""
    return ", ".join(f"{clock(span.start_s)}–{clock(span.end_s)}" for span in ranges)


def timeline_chart(rows: list[tuple[str, float, float]], duration_s: float) -> alt.Chart:
    """One row per name (in the order first given), a bar per (name, start_s, end_s) over [0, duration_s]."""
    order = list(dict.fromkeys(name for name, _, _ in rows))
    bars = pd.DataFrame(
        [
            {"person": name, "start": start, "end": max(end, start + MIN_BAR_S), "when": f"{clock(start)}–{clock(end)}"}
            for name, start, end in rows
        ]
    )
    seconds = alt.Scale(domain=[0, max(duration_s, MIN_BAR_S)])
    return (
        alt.Chart(bars)
        .mark_bar(cornerRadius=3)
        .encode(
            x=alt.X("start:Q", title="Time in the video (s)", scale=seconds),
            x2="end:Q",
            y=alt.Y("person:N", title=None, sort=order),
            color=alt.Color("person:N", legend=None, sort=order),
            tooltip=[alt.Tooltip("person:N", title="Who"), alt.Tooltip("when:N", title="When")],
        )
        .properties(height=alt.Step(ROW_PX))
    )


def timeline(rows: list[tuple[str, float, float]], duration_s: float, key: str) -> None:
    """Draw the chart, or a caption when nobody appears."""
    if not rows:
        st.caption("Nobody appears in this video.")
        return
    st.altair_chart(timeline_chart(rows, duration_s), width="stretch", key=key)
