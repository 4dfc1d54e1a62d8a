"""Studio › Search: find a face in the library from a sample photo (upload or camera), with a calibrated
threshold slider and its measured risk, top-K and filters; and the photos where chosen people appear together."""

from __future__ import annotations

import streamlit as st

from core.config import get_settings
from core.studio import export, library, people, scale, search
from core.studio.errors import StudioError
from core.studio.records import PhotoInfo
from pages.ui.components import md
from pages.ui.session import require_member
from pages.ui.studio_model_notice import stale_model_notice
from pages.ui.studio_pager import page_of
from pages.ui.studio_photos import photo_detail, photo_grid

user = require_member()  # before anything else: a direct run of this file shows visitors nothing

SAMPLE_TYPES = ["jpg", "jpeg", "png", "webp"]
RESULT_KEY = "studio_search_result"


def _sample() -> bytes | None:
    upload_tab, camera_tab = st.tabs(["Upload a photo", "Take a photo"])
    with upload_tab:
        upload = st.file_uploader("Sample photo (JPG, PNG or WEBP)", type=SAMPLE_TYPES, key="search-upload")
    with camera_tab:
        shot = st.camera_input("Take a sample photo", key="search-camera")
    chosen = upload or shot
    return chosen.getvalue() if chosen is not None else None


def _choose_face(image: bytes) -> int | None:
    """The index of the sample's face to search for; None when the photo has no usable face."""
    try:
        faces = search.sample_faces(image)
    except (StudioError, ValueError) as exc:  # the face engine's FaceError is a ValueError with a sentence
        st.error(str(exc))
        return None
    if not faces:
        st.warning("No face was found in this photo. Try one where the face is larger and well lit.")
        return None
    if len(faces) == 1:
        st.image(faces[0].thumbnail_jpeg, width=160, caption="The face to search for")
        return faces[0].index
    st.caption(f"This photo holds {len(faces)} faces: choose one.")
    for column, face in zip(st.columns(min(len(faces), 8)), faces[:8], strict=False):
        column.image(face.thumbnail_jpeg, width="stretch", caption=f"Face {face.index + 1}")
    return st.radio(
        "Search for", [face.index for face in faces], format_func=lambda i: f"Face {i + 1}", horizontal=True
    )


def _threshold() -> float:
    embedder = get_settings().embedder
    percent = st.slider(
        "Match threshold (%)",
        min_value=70,
        max_value=95,
        value=round(scale.default_percent()),
        help="70 % is a loose match (more of the right photos, some strangers); 95 % a near-certain one.",
    )
    st.caption(md(scale.risk_words(percent, embedder)))
    return float(percent)


def _filters() -> tuple[int | None, int | None]:
    albums = {album.id: album.name for album in library.list_albums(user.id)}
    persons = {person.id: person.name for person in people.list_people(user.id)}
    album_column, person_column = st.columns(2)
    album_id = album_column.selectbox(
        "In album", [None, *albums], format_func=lambda a: "Any album" if a is None else albums[a]
    )
    person_id = person_column.selectbox(
        "Named as", [None, *persons], format_func=lambda p: "Anyone" if p is None else persons[p]
    )
    return album_id, person_id


def _results() -> None:
    result = st.session_state.get(RESULT_KEY)
    if result is None:
        return
    if not result.matches:
        st.info("No face in your library is that close. Lower the threshold to see looser matches.")
        return
    st.subheader(f"{len(result.matches)} match{'' if len(result.matches) == 1 else 'es'}", anchor=False)
    similarity = {match.photo.id: match.similarity_pct for match in result.matches}
    boxed: dict[int, list[int]] = {}
    photos: list[PhotoInfo] = []
    for match in result.matches:  # best first; a photo with two matching faces shows once, both boxed
        if match.photo.id not in boxed:
            photos.append(match.photo)
        boxed.setdefault(match.photo.id, []).append(match.face.id)
    shown = page_of(photos, "search-page", 24)
    photo_grid(
        user.id,
        shown,
        boxed=boxed,
        key="matches",
        caption=lambda p: f"**{similarity[p.id]:.0f} %** · {md(p.original_name)}",
    )
    st.download_button(
        "Download these results (CSV)",
        lambda: export.export_search(result, "csv").main.read_bytes(),  # written only when pressed
        "search-results.csv",
        "text/csv",
        icon=":material/download:",
    )


def _together() -> None:
    st.subheader("Photos where these people appear together", anchor=False)
    persons = {person.id: person.name for person in people.list_people(user.id)}
    if len(persons) < 2:
        st.caption("Name at least two people (Clusters or People) to use this.")
        return
    chosen = st.multiselect("People", list(persons), format_func=persons.__getitem__, placeholder="Choose two or more")
    if len(chosen) < 2:
        return
    photos = search.photos_with_people(user.id, chosen)
    if not photos:
        st.info("No photo shows all of them together.")
        return
    st.caption(f"{len(photos)} photo{'' if len(photos) == 1 else 's'}")
    photo_grid(user.id, list(page_of(photos, "together-page", 24)), key="together")


st.title("Search by face", anchor=False)
if library.list_photos(user.id, page_size=1).total == 0:
    st.info("Your library has no faces yet: import photos first.", icon=":material/photo_library:")
    st.page_link("pages/studio_library.py", label="Open the Library", icon=":material/photo_library:")
stale_model_notice(user.id)
photo_detail(user.id)
image = _sample()
if image is not None:
    face_index = _choose_face(image)
    if face_index is not None:
        threshold = _threshold()
        top_column, _ = st.columns([1, 3])
        top_k = int(top_column.number_input("Top results", min_value=1, max_value=500, value=50, step=10))
        album_id, person_id = _filters()
        if st.button("Search", type="primary", icon=":material/search:"):
            try:
                st.session_state[RESULT_KEY] = search.search_by_sample(
                    user.id, image, face_index, threshold, top_k, album_id=album_id, person_id=person_id
                )
            except StudioError as exc:
                st.error(str(exc))
        _results()
st.divider()
_together()
