"""The person's analyses, newest first: what was analysed, when, how long, who was found, and Open."""

from __future__ import annotations

import streamlit as st

from core.video_analysis import results
from core.video_analysis.records import AnalysisSummary
from pages.ui import video_state
from pages.ui.components import md, when
from pages.ui.studio_words import counted
from pages.ui.video_results import title_of
from pages.ui.video_timeline import clock

SHOWN = 50
NAMES_SHOWN = 4


def _who(summary: AnalysisSummary) -> str:
    if not summary.people_count:
        return "nobody found"
    names = ", ".join(summary.names[:NAMES_SHOWN]) + (" …" if len(summary.names) > NAMES_SHOWN else "")
    return f"{counted(summary.people_count, 'person', 'people')}: {names}"


def _row(summary: AnalysisSummary, is_open: bool) -> None:
    with st.container(border=True, key=f"video-analysis-{summary.id}"):
        text, action = st.columns([6, 1], vertical_alignment="center")
        source = "site video" if summary.video_id is not None else "upload"
        text.markdown(f"**{md(title_of(summary.video_title, summary.source_name))}**")
        text.caption(" · ".join([source, clock(summary.duration_s), when(summary.created_at), md(_who(summary))]))
        action.button(
            "Open",
            key=f"video-open-{summary.id}",
            icon=":material/open_in_full:",
            disabled=is_open,
            on_click=video_state.open_analysis,
            args=(summary.id,),
        )


def analyses_list(owner_id: int) -> None:
    """Every finished analysis of the person's (the jobs themselves, running or failed, are on the History page)."""
    analyses = results.recent_analyses(owner_id, limit=SHOWN)
    st.subheader("My analyses", anchor=False)
    if not analyses:
        st.caption("No video analysed yet: upload one or pick a video of the site above.")
        return
    opened = video_state.opened()
    for summary in analyses:
        _row(summary, summary.id == opened)
