"""The live recognition page's side panels: who is in view since when, and the frozen frame to add a face from."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import streamlit as st

from core.faces.live_frames import LatestFrameWorker
from core.studio.errors import StudioError
from core.studio.live_overlay import caption
from core.studio.live_recognition import LiveRecognition
from pages.ui.components import flash, md


def _clock(moment: datetime) -> str:
    """A time of day in the browser's time zone (UTC when the browser does not say), like '14:05:09'."""
    try:
        zone = ZoneInfo(st.context.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return f"{moment.astimezone(zone):%H:%M:%S}"


def _for(moment: datetime) -> str:
    seconds = max(int((datetime.now(UTC) - moment).total_seconds()), 0)
    minutes, secs = divmod(seconds, 60)
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def in_view(live: LiveRecognition, worker: LatestFrameWorker) -> None:
    """The list of who is in view now (polled by a fragment while the camera plays), and how recognition keeps up."""
    st.subheader("In view now", anchor=False)
    rows = live.in_view()
    with st.container(key="live-in-view"):
        if not rows:
            st.caption("Nobody in view.")
        for row in rows:
            since = f"since {_clock(row.since)} ({_for(row.since)})"
            if row.known and row.name:
                st.markdown(f":green[**{md(row.name)}**] · {row.similarity_pct:.0f} % · {since}")
            else:
                st.markdown(f":orange[**Unknown**] · {since}")
    if worker.submitted:
        st.caption(f"{worker.processed} of {worker.submitted} camera frames analysed (always the newest; "
                   "the rest only shown).")


ERROR_KEY = "live-add-error"


def _add(live: LiveRecognition, new: bool) -> None:
    """Add the chosen face (a button's callback, so no extra rerun interrupts the camera's stream)."""
    state = st.session_state
    number = state["live-face"]
    try:
        if new:
            person = live.add_face(number, name=state.get("live-new-name", ""))
            flash(f"Added {md(person.name)}: the next frames recognise them.")
        else:
            person = live.add_face(number, person_id=state["live-person"])
            flash(f"Added another face of {md(person.name)}.")
    except StudioError as exc:
        state[ERROR_KEY] = str(exc)


def frozen_frame(live: LiveRecognition, people: dict[int, str]) -> None:
    """The frozen frame with numbered faces: add one as a new person or as a sample of someone named, or discard."""
    frozen = live.frozen
    if frozen is None:
        return
    st.subheader("Frozen frame", anchor=False)
    st.image(frozen.preview_jpeg, width=480, caption="Kept in memory only, until you add a face or discard it.")
    numbers = list(range(1, len(frozen.faces) + 1))
    unknown = next((n for n in numbers if not frozen.faces[n - 1].known), 1)
    st.radio(
        "Face", numbers, index=unknown - 1, horizontal=True,
        format_func=lambda n: f"{n}: {caption(frozen.faces[n - 1])}", key="live-face",
    )
    error = st.session_state.pop(ERROR_KEY, None)
    if error:
        st.error(error)
    new_tab, existing_tab = st.tabs(["Add as a new person", "Add to someone you named"])
    with new_tab, st.form("live-add-new", clear_on_submit=True):
        st.text_input("Name", max_chars=120, key="live-new-name")
        st.form_submit_button("Add as a new person", icon=":material/person_add:", on_click=_add, args=(live, True))
    with existing_tab:
        if not people:
            st.caption("Nobody is named yet.")
        else:
            st.selectbox("Person", list(people), format_func=people.__getitem__, key="live-person")
            st.button("Add this face to them", icon=":material/person_check:", key="live-add-existing",
                      on_click=_add, args=(live, False))
    st.button("Discard the frozen frame", icon=":material/delete:", on_click=live.discard, key="live-discard")
