"""The sign-in page's "Sign in with your face" panel, beside the password form.

The camera view feeds the session's `LiveSignIn` through a latest-frame-wins worker. The overlay
on the video shows progress frame by frame; a fragment polls the status once a second while the
camera plays, so the page says "recognised, now turn your head to your left (step 1 of 3)" without rerunning
the whole app on every frame. Success signs the person in exactly as the password form does.
"""

from __future__ import annotations

import streamlit as st

from core.face_signin.decision import Phase
from core.face_signin.live import LiveSignIn
from core.faces.live_frames import LatestFrameWorker
from pages.ui.components import FEED, flash, full_stop, md
from pages.ui.live_camera import POLL_S, camera_refused, live_camera, session_object
from pages.ui.session import sign_in_as

SIGNIN_KEY = "face_signin"


def _new_signin() -> tuple[LiveSignIn, LatestFrameWorker]:
    live = LiveSignIn()
    return live, LatestFrameWorker(live.process)


def _status(live: LiveSignIn) -> None:
    status = live.status()
    progress = status.progress
    if status.user is not None:
        st.session_state.pop(SIGNIN_KEY, None)
        sign_in_as(status.user, "face")
        flash(full_stop(f"Welcome back, {md(status.user.display_name)}"))
        st.switch_page(st.session_state.pop("after_sign_in", FEED))
    if progress.phase is Phase.LOOKING:
        st.info(progress.message, icon=":material/face:")
    elif progress.phase is Phase.CHALLENGE:
        st.warning(progress.message, icon=":material/360:")
    else:
        st.error(progress.message, icon=":material/no_accounts:")
        if progress.note:
            st.warning(progress.note)
        st.button("Try again", icon=":material/refresh:", key="face-signin-again", on_click=live.start)


def render_face_signin() -> None:
    """The panel: camera, live status; on success the session is signed in and leaves for the feed."""
    st.subheader("Sign in with your face", anchor=False)
    if camera_refused("Meanwhile, sign in with your password."):
        return
    live, worker = session_object(SIGNIN_KEY, _new_signin)
    st.caption(
        "Press START to turn the camera on, and look at it."
        + (" You will then be asked for a few head moves, one at a time." if live.rules.liveness else "")
    )
    context = live_camera("face-signin-camera", worker)
    st.fragment(_status, run_every=POLL_S if context.state.playing else None, key="face-signin-status")(live)
