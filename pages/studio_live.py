"""Studio › Live: the webcam with every face boxed and named (or Unknown), who is in view since when, and a
frozen frame to add a newcomer from; recognition uses this member's people only."""

from __future__ import annotations

import streamlit as st

from core.faces.live_frames import LatestFrameWorker
from core.studio.errors import StudioError
from core.studio.live_overlay import draw_labels
from core.studio.live_recognition import LiveRecognition
from pages.ui.components import md, show_flash
from pages.ui.live_camera import POLL_S, camera_refused, live_camera, session_object
from pages.ui.session import require_member
from pages.ui.studio_live_panels import frozen_frame, in_view

user = require_member()  # before anything else: a direct run of this file shows visitors nothing


def _new_live() -> tuple[LiveRecognition, LatestFrameWorker]:
    live = LiveRecognition(user.id)
    return live, LatestFrameWorker(live.process)


st.title("Live recognition", anchor=False)
if camera_refused("Meanwhile, Studio › Recognise names the faces of a photo."):
    st.stop()
live, worker = session_object(f"studio_live_{user.id}", _new_live)
live.recogniser.refresh()
people = live.recogniser.people()
# Nothing above the camera may come and go between runs: a component that moves is mounted afresh, which
# stops the stream. Messages go beside or below it.
camera_column, side_column = st.columns([3, 2])
with camera_column:
    context = live_camera("studio-live-camera", worker, draw=draw_labels)
    st.caption(md(
        f"A face is named when it is at least {live.threshold_pct:.0f} % similar to someone you named and "
        f"{live.margin_pct:.0f} points ahead of the next person. {live.risk_words()}"
    ))
with side_column:
    show_flash()
    if not people:
        st.info("Nobody is named yet: every face shows as Unknown until you add one from a frozen frame, or "
                "name people in Clusters or People.", icon=":material/groups:")
    st.fragment(in_view, run_every=POLL_S if context.state.playing else None, key="studio-live-in-view")(
        live, worker
    )
    if st.button("Freeze this frame", icon=":material/photo_camera:", disabled=not context.state.playing):
        try:
            live.freeze()
        except StudioError as exc:
            st.error(str(exc))
frozen_frame(live, people)
