"""Studio › Recognise: upload or take a photo; every face boxed and labelled with the best match among your
people, the runner-up and the similarity, or Unknown, with "add as a new person" or "add to" someone."""

from __future__ import annotations

import hashlib

import streamlit as st

from core.studio import people
from core.studio.errors import StudioError
from core.studio.recognise_add import ALBUM, add_face
from core.studio.recognise_photo import PhotoFace, PhotoRecognition, recognise_photo
from pages.ui.components import flash, md, show_flash
from pages.ui.session import require_member
from pages.ui.studio_words import counted

user = require_member()  # before anything else: a direct run of this file shows visitors nothing

PHOTO_TYPES = ["jpg", "jpeg", "png", "webp"]
RESULT_KEY = "studio_recognise_result"  # (photo digest, result): recognised once per photo, again after an add


def _photo() -> tuple[bytes, str] | None:
    upload_tab, camera_tab = st.tabs(["Upload a photo", "Take a photo"])
    with upload_tab:
        upload = st.file_uploader("Photo to recognise (JPG, PNG or WEBP)", type=PHOTO_TYPES, key="recognise-upload")
    with camera_tab:
        shot = st.camera_input("Take a photo", key="recognise-camera")
    chosen = upload or shot
    return (chosen.getvalue(), chosen.name or "camera.jpg") if chosen is not None else None


def _recognised(image: bytes) -> PhotoRecognition | None:
    digest = hashlib.sha256(image).hexdigest()
    held = st.session_state.get(RESULT_KEY)
    if held is None or held[0] != digest:
        try:
            with st.spinner("Looking at every face…"):
                held = (digest, recognise_photo(user.id, image))
        except StudioError as exc:
            st.error(str(exc))
            return None
        st.session_state[RESULT_KEY] = held
    return held[1]


def _verdict(face: PhotoFace, result: PhotoRecognition) -> str:
    """Who the face is, or why it is Unknown, in words (Markdown-escaped)."""
    found, closest, runner = face.recognition, face.recognition.closest, face.recognition.runner_up
    head = f"**{face.index + 1} · {md(found.label)}**"
    if found.known:
        head += f" — {found.similarity_pct:.0f} % similar"
    elif closest is None:
        head += " — nobody is named in your library yet"
    elif closest.similarity_pct < result.threshold_pct:
        head += f" — closest is {md(closest.name)} at {closest.similarity_pct:.0f} % (a match needs " \
                f"{result.threshold_pct:.0f} %)"
    else:
        head += f" — {md(closest.name)} ({closest.similarity_pct:.0f} %) and {md(runner.name)} " \
                f"({runner.similarity_pct:.0f} %) are too close to tell apart"
    if found.known and runner is not None:
        head += f"  \nRunner-up: {md(runner.name)}, {runner.similarity_pct:.0f} %"
    elif found.known:
        head += "  \nRunner-up: none (only one person is named)"
    return head


def _add(image: bytes, filename: str, face: PhotoFace, name: str | None, person_id: int | None) -> None:
    try:
        person = add_face(user.id, image, face.index, name=name, person_id=person_id, original_name=filename)
    except StudioError as exc:
        st.error(str(exc))
        return
    st.session_state.pop(RESULT_KEY, None)  # recognise again: the new sample counts at once
    flash(f"Face {face.index + 1} is now {person.name} ({counted(person.face_count, 'face')}); "
          f"the photo is in your library, album “{ALBUM}”.")
    st.rerun()


def _add_controls(image: bytes, filename: str, face: PhotoFace, others: dict[int, str]) -> None:
    key = f"recognise-face-{face.index}"
    name_column, new_column = st.columns([3, 2], vertical_alignment="bottom")
    name = name_column.text_input("Name", key=f"{key}-name", max_chars=120, placeholder="Who is this?")
    if new_column.button("Add as a new person", key=f"{key}-new", icon=":material/person_add:"):
        _add(image, filename, face, name, None)
    if not others:
        return
    pick_column, join_column = st.columns([3, 2], vertical_alignment="bottom")
    chosen = pick_column.selectbox("Or one of your people", list(others), format_func=others.__getitem__,
                                   key=f"{key}-person")
    if join_column.button(f"Add to {others[chosen]}", key=f"{key}-join", icon=":material/group_add:"):
        _add(image, filename, face, None, chosen)


def _faces(image: bytes, filename: str, result: PhotoRecognition) -> None:
    others = {person.id: person.name for person in people.list_people(user.id)}
    for face in result.faces:
        with st.container(border=True):
            picture, words = st.columns([1, 5])
            picture.image(face.thumbnail_jpeg, width="stretch")
            words.markdown(_verdict(face, result))
            if not face.quality_ok:
                words.caption(f"Face quality: {md(face.quality)}; a clearer photo recognises more surely.")
            if face.recognition.known:
                with words.expander("Not right? Add this face to someone"):
                    _add_controls(image, filename, face, others)
            else:
                with words:
                    _add_controls(image, filename, face, others)


st.title("Recognise faces", anchor=False)
show_flash()
chosen = _photo()
if chosen is not None:
    image, filename = chosen
    result = _recognised(image)
    if result is not None:
        st.image(result.image_jpeg, width="stretch")
        st.caption(md(f"A face is named when it is at least {result.threshold_pct:.0f} % similar to one of your "
                      f"people and {result.margin_pct:.0f} points ahead of the next. {result.risk}"))
        if not result.faces:
            st.warning("No face was found in this photo. Try one where the faces are larger and well lit.")
        _faces(image, filename, result)
