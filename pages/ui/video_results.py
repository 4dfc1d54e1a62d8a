"""One analysis, opened: the people found (thumbnail, name, when), the timeline, the annotated video, the JSON
export, "Add to my people" on an unknown, and deleting the analysis after a confirmation."""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import urljoin

import streamlit as st

from core.config import get_settings
from core.jobs import queue
from core.studio.errors import StudioError
from core.video_analysis import results
from core.video_analysis.records import AnalysisInfo, FoundPerson
from pages.ui import video_state
from pages.ui.components import flash, md, when
from pages.ui.studio_words import counted
from pages.ui.video_timeline import clock, spans, timeline

PEOPLE_COLUMNS = 5
VIDEO_PX = 640  # the annotated video at most this wide: a small clip is not blown up to the page's width


def title_of(title: str | None, source_name: str) -> str:
    """The site video's title, else the uploaded file's name."""
    return title or source_name


def timeline_rows(people: tuple[FoundPerson, ...]) -> list[tuple[str, float, float]]:
    """(name, start, end) for each time range of each person, in the order the analysis lists them."""
    return [(person.name, span.start_s, span.end_s) for person in people for span in person.ranges]


def _add_to_people(owner_id: int, found: FoundPerson) -> None:
    with st.popover("Add to my people", icon=":material/person_add:"), st.form(f"video-add-{found.id}", border=False):
        name = st.text_input("Name", max_chars=120, key=f"video-add-{found.id}-name")
        if st.form_submit_button("Add", type="primary"):
            try:
                results.add_to_people(owner_id, found.id, name.strip())
            except StudioError as exc:
                st.error(str(exc))
            else:
                flash(f"{name.strip()} is now one of your people.")
                st.rerun()


def person_card(found: FoundPerson) -> None:
    """Thumbnail, name, and when they appear (for the results and the site's video page)."""
    st.image(str(found.thumbnail), width="stretch")
    st.markdown(f"**{md(found.name)}**")
    st.caption(f"{spans(found.ranges)} · {found.seconds:.1f} s")


def people_grid(owner_id: int | None, people: tuple[FoundPerson, ...], columns: int = PEOPLE_COLUMNS) -> None:
    """The people found, a card each; with `owner_id`, unknowns get "Add to my people"."""
    for start in range(0, len(people), columns):
        row = people[start : start + columns]
        for column, found in zip(st.columns(columns), row, strict=False):
            with column, st.container(border=True, key=f"video-person-{found.id}"):
                person_card(found)
                if owner_id is not None and not found.known:
                    _add_to_people(owner_id, found)


def _export(owner_id: int, info: AnalysisInfo) -> None:
    data = json.dumps(results.analysis_json(owner_id, info.id), indent=1)
    st.download_button(
        "Download the JSON",
        data,
        f"video-analysis-{info.id}.json",
        "application/json",
        icon=":material/download:",
        key=f"video-json-{info.id}",
    )


def _delete(owner_id: int, info: AnalysisInfo) -> None:
    with st.expander("Delete this analysis", icon=":material/delete:"):
        st.caption("The people found, the annotated video and the exported boxes go; your studio people stay.")
        sure = st.checkbox("Yes, delete this analysis", key=f"video-delete-{info.id}-sure")
        if st.button("Delete analysis", key=f"video-delete-{info.id}", disabled=not sure, type="primary"):
            try:
                results.delete_analysis(owner_id, info.id)
                if info.job_id is not None:  # and its line in the history, whose result this was
                    queue.delete_job(owner_id, info.job_id)
            except StudioError as exc:
                st.error(str(exc))
            else:
                video_state.close_analysis()
                flash(f"The analysis of “{title_of(info.video_title, info.source_name)}” is deleted.")
                st.rerun()


def _annotated_source(owner_id: int, info: AnalysisInfo) -> str | Path:
    """The annotated video streamed from disk through a signed link, kept for half its lifetime so a rerun does
    not restart the player; AppTest has no browser URL to join it to, and gets the file itself."""
    page_url = st.context.url
    if not page_url:
        return info.annotated
    key, now = f"video-annotated-link-{info.id}", time.monotonic()
    kept = st.session_state.get(key)
    if not kept or now - kept[1] > get_settings().download_link_ttl_s / 2:
        link = results.annotated_link(owner_id, info.id, st.get_option("server.baseUrlPath"))
        kept = st.session_state[key] = (urljoin(page_url, link), now)
    return kept[0]


def _facts(info: AnalysisInfo) -> str:
    return " · ".join(
        [
            clock(info.duration_s),
            f"{info.width}x{info.height}",
            f"{info.sampled_frames} frames analysed ({info.sample_fps:g} a second)",
            counted(len(info.people), "person", "people"),
            when(info.created_at),
        ]
    )


def results_view(owner_id: int, analysis_id: int) -> None:
    """The opened analysis; an id that is not the person's (or is gone) closes quietly with a sentence."""
    try:
        info = results.get_analysis(owner_id, analysis_id)
    except StudioError as exc:
        st.error(str(exc))
        return
    with st.container(border=True):
        head, close = st.columns([5, 1], vertical_alignment="center")
        head.subheader(md(title_of(info.video_title, info.source_name)), anchor=False)
        close.button("Close", key="video-close", icon=":material/close:", on_click=video_state.close_analysis)
        st.caption(_facts(info))
        if info.message:
            st.info(info.message)
        if info.people:
            st.markdown("**People found**")
            people_grid(owner_id, info.people)
            st.markdown("**When they appear**")
            timeline(timeline_rows(info.people), info.duration_s, key=f"video-timeline-{info.id}")
        if info.annotated is not None and info.annotated.is_file():
            st.markdown("**The video with faces boxed and named**")
            st.video(_annotated_source(owner_id, info), width=min(VIDEO_PX, max(info.width, 480)))
        _export(owner_id, info)
        _delete(owner_id, info)
