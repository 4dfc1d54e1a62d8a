"""The profile's "Face sign-in" section: enrol from the live camera, one photo or uploads; see; delete.

The live panel collects 3 to 5 good samples in slightly different poses while telling the
person what to fix; a single camera shot and photo uploads are the fallbacks. Only embeddings
are stored unless the person opts in to keeping a small snapshot of each face.

The three ways are lazy tabs that remember the chosen one (`key`, `on_change="rerun"`): only the open
tab runs, so the camera starts only when its tab is chosen (and START pressed), and enrolling does
not jump back to the first tab. Messages are flashes shown here and kept through the camera's reruns.
A photo takes seconds to enrol (a model may load, each installed model measures the face): the steps
are shown as they happen.
"""

from __future__ import annotations

from typing import NoReturn

import streamlit as st

from core.accounts.users import UserInfo
from core.config import get_settings
from core.face_signin.enrolment import Enrolment, delete_face_data, enrol, enrol_photo, enrolment_of
from core.face_signin.enrolment_live import MAX_SAMPLES, MIN_SAMPLES, SampleCollector
from core.face_signin.stale_samples import stale_samples
from core.faces.errors import FaceError
from core.faces.live_frames import LatestFrameWorker
from core.faces.risk import signin_risk_words
from pages.ui.components import FLASH_KEEP_S, flash, md, show_flash, when
from pages.ui.live_camera import POLL_S, camera_refused, live_camera, session_object

PHOTO_TYPES = ["jpg", "jpeg", "png", "webp"]
PLACE = "face"  # where this section's flashes show
WAYS = ("Live camera", "Take one photo", "Upload photos")
WAY_KEY = "face-enrol-way"


def _saved(message: str) -> NoReturn:
    flash(message, where=PLACE)
    st.rerun()


def _refused(message: str) -> NoReturn:
    flash(message, kind="error", where=PLACE)
    st.rerun()


def _enrol_with_steps(user: UserInfo, data: bytes, keep: bool, label: str) -> None:
    """Enrol one photo, each step written in a status box as it starts; FaceError goes to the caller."""
    with st.status(f"Enrolling {label}...", expanded=True) as box:
        try:
            enrol_photo(user.id, data, keep, progress=lambda step: box.write(f"{step}..."))
        except FaceError:
            box.update(label=f"{label[:1].upper()}{label[1:]} was refused.", state="error")
            raise
        box.update(label=f"{label[:1].upper()}{label[1:]} enrolled.", state="complete", expanded=False)


def _summary(enrolled: Enrolment) -> None:
    if not enrolled.count:
        st.caption("No face enrolled yet: face sign-in is off for your account.")
        return
    assert enrolled.last_at is not None
    plural = "s" if enrolled.count != 1 else ""
    st.markdown(f"**{enrolled.count} face sample{plural}** enrolled, the latest on {when(enrolled.last_at)}.")
    images = [str(sample.image) for sample in enrolled.samples if sample.image is not None]
    if images:
        st.image(images, width=80)


def _collector_status(user: UserInfo, collector: SampleCollector, keep: bool) -> None:
    status = collector.status()
    st.progress(min(status.count / MAX_SAMPLES, 1.0), text=status.hint)
    if status.ready and st.button(f"Save {status.count} samples", type="primary", icon=":material/save:"):
        try:
            enrol(user.id, collector.take(), keep)
        except FaceError as exc:
            _refused(str(exc))
        else:
            _saved(f"{status.count} face samples saved.")


def _live(user: UserInfo, keep: bool) -> None:
    if camera_refused("Meanwhile, enrol from a photo (the other tabs)."):
        return
    st.caption(
        f"Press START to turn the camera on, and look at it. {MIN_SAMPLES} to {MAX_SAMPLES} good samples are taken "
        "while you turn or tilt your head a little; the box turns green when your face is good."
    )

    def new_collector() -> tuple[SampleCollector, LatestFrameWorker]:
        collector = SampleCollector()
        return collector, LatestFrameWorker(collector.process)

    collector, worker = session_object(f"face_enrol_{user.id}", new_collector)
    context = live_camera("face-enrol-camera", worker)
    run_every = POLL_S if context.state.playing else None
    st.fragment(_collector_status, run_every=run_every, key="face-enrol-status")(user, collector, keep)


def _new_file(widget_key: str, file_id: str) -> bool:
    """A widget keeps its file across reruns: act on each file once."""
    done = st.session_state.setdefault(f"{widget_key}-done", set())
    if file_id in done:
        return False
    done.add(file_id)
    return True


def _camera_shot(user: UserInfo, keep: bool) -> None:
    photo = st.camera_input("Take a photo of your face", key="face-shot")
    if photo is not None and _new_file("face-shot", photo.file_id):
        try:
            _enrol_with_steps(user, photo.getvalue(), keep, "the camera photo")
        except FaceError as exc:
            _refused(str(exc))
        else:
            _saved("Face sample saved from the camera.")


def _uploads(user: UserInfo, keep: bool) -> None:
    with st.form("face-upload", clear_on_submit=True):
        files = st.file_uploader(
            "Photos with only your face in them",
            type=PHOTO_TYPES,
            accept_multiple_files=True,
            max_upload_size=get_settings().max_upload_mb,
        )
        if not st.form_submit_button("Enrol these photos", icon=":material/upload:"):
            return
    if not files:
        _refused("Choose one or more photos of your face first, then press Enrol these photos.")
    saved, problems = 0, []
    for number, upload in enumerate(files, start=1):
        try:
            _enrol_with_steps(user, upload.getvalue(), keep, f"photo {number} of {len(files)} ({md(upload.name)})")
        except FaceError as exc:
            problems.append(f"{md(upload.name)}: {exc}")
        else:
            saved += 1
    if not problems:
        _saved(f"{saved} face sample{'s' if saved != 1 else ''} saved from your photos.")
    done = f"{saved} photo{'s' if saved != 1 else ''} enrolled; the others were refused. " if saved else ""
    _refused(done + " ".join(problems))


def _delete(user: UserInfo) -> None:
    if not st.session_state.get("confirm-face-delete"):
        if st.button("Delete my face data", icon=":material/delete:"):
            st.session_state["confirm-face-delete"] = True
            st.rerun()
        return
    st.warning("Delete every face sample and snapshot of yours? Face sign-in stops working until you enrol again.")
    yes, no = st.columns(2)
    if yes.button("Yes, delete my face data", type="primary"):
        st.session_state.pop("confirm-face-delete")
        count = delete_face_data(user.id)
        _saved(f"Your face data is deleted ({count} sample{'s' if count != 1 else ''}).")
    if no.button("Keep it", key="keep-face-data"):
        st.session_state.pop("confirm-face-delete")
        st.rerun()


def render_face_snapshot(user: UserInfo) -> None:
    """Enrolment, what is enrolled, and deletion, for the signed-in `user`."""
    st.subheader("Face sign-in", anchor="face-sign-in")
    show_flash(where=PLACE, keep_s=FLASH_KEEP_S)
    enrolled = enrolment_of(user.id)
    _summary(enrolled)
    if stale := stale_samples(user.id).message:
        st.warning(stale, icon=":material/sync_problem:")
    st.caption(signin_risk_words())
    keep = st.checkbox(
        "Keep a snapshot of my face with each sample (shown here, deleted with my face data)", key="face-keep"
    )
    live_tab, shot_tab, upload_tab = st.tabs(WAYS, key=WAY_KEY, on_change="rerun")
    if live_tab.open:
        with live_tab:
            _live(user, keep)
    if shot_tab.open:
        with shot_tab:
            _camera_shot(user, keep)
    if upload_tab.open:
        with upload_tab:
            _uploads(user, keep)
    if enrolled.count:
        _delete(user)
