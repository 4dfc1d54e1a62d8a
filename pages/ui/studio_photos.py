"""Photos in the studio: a grid of photos with their faces boxed, and one photo large with its faces listed.

Every image is JPEG bytes from core.studio.thumbs (boxes drawn on the server), so no page decodes a
photo. A photo that failed to import has no picture: its card shows the reason instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import streamlit as st

from core.studio import library, thumbs
from core.studio.errors import StudioError
from core.studio.records import FaceInfo, PhotoInfo
from pages.ui.components import md
from pages.ui.studio_gallery import face_gallery

GRID_SIDE = 360
DETAIL_SIDE = 960
OPEN_KEY = "studio_open_photo"


def photo_caption(photo: PhotoInfo) -> str:
    """'name.jpg · 3 faces', or the reason it has none (Markdown-escaped)."""
    if photo.status == "processed":
        return f"{md(photo.original_name)} · {photo.face_count} face{'' if photo.face_count == 1 else 's'}"
    return f"{md(photo.original_name)} · {md(photo.reason or photo.status)}"


def _picture(owner_id: int, photo: PhotoInfo, face_ids: Sequence[int] | None, side: int) -> None:
    if photo.status == "failed":
        st.warning(photo.reason or "This file could not be read.", icon=":material/broken_image:")
        return
    if photo.status == "processed":
        image = thumbs.photo_with_boxes(owner_id, photo.id, face_ids=list(face_ids) if face_ids else None, side=side)
    else:
        image = thumbs.photo_thumbnail(owner_id, photo.id, side=side)
    st.image(image, width="stretch")


def photo_grid(
    owner_id: int,
    photos: Sequence[PhotoInfo],
    *,
    columns: int = 4,
    boxed: dict[int, list[int]] | None = None,
    caption: Callable[[PhotoInfo], str] = photo_caption,
    openable: bool = True,
    key: str = "photos",
) -> None:
    """Photos as cards with their faces boxed (the faces in `boxed[photo_id]` highlighted when given);
    each card's Open button has the key `<key>-open-<photo id>`."""
    for start in range(0, len(photos), columns):
        for column, photo in zip(st.columns(columns), photos[start : start + columns], strict=False):
            with column, st.container(border=True):
                _picture(owner_id, photo, (boxed or {}).get(photo.id), GRID_SIDE)
                st.caption(caption(photo))
                if openable and photo.status != "failed":
                    st.button(
                        "Open",
                        key=f"{key}-open-{photo.id}",
                        icon=":material/open_in_full:",
                        on_click=st.session_state.__setitem__,
                        args=(OPEN_KEY, photo.id),
                    )


def photo_detail(owner_id: int) -> None:
    """The photo opened from a grid, large, with every face boxed and listed; a Close button."""
    photo_id = st.session_state.get(OPEN_KEY)
    if photo_id is None:
        return
    try:
        detail = library.photo_detail(owner_id, photo_id)
    except StudioError:
        st.session_state.pop(OPEN_KEY, None)
        return
    with st.container(border=True):
        head, close = st.columns([5, 1], vertical_alignment="center")
        head.subheader(md(detail.photo.original_name), anchor=False)
        close.button("Close", icon=":material/close:", on_click=st.session_state.pop, args=(OPEN_KEY, None))
        picture, about = st.columns([3, 2], gap="medium")
        with picture:
            _picture(owner_id, detail.photo, None, DETAIL_SIDE)
        with about:
            size = f" · {detail.photo.width}×{detail.photo.height}" if detail.photo.width else ""
            st.caption(f"From {md(detail.photo.origin)}{size}")
            if detail.photo.status == "no_faces":
                st.caption(md(detail.photo.reason or "No face was found in this photo."))
            face_gallery(owner_id, detail.faces, f"photo-{photo_id}-faces", columns=3, caption=_face_words)
            _delete(owner_id, photo_id)


def _delete(owner_id: int, photo_id: int) -> None:
    """Delete the opened photo after a tick: its faces leave the library and the search index with it."""
    sure = st.checkbox("Yes, delete this photo and its faces", key=f"photo-{photo_id}-sure")
    if st.button("Delete photo", key=f"photo-{photo_id}-delete", disabled=not sure, icon=":material/delete:"):
        try:
            library.delete_photo(owner_id, photo_id)
        except StudioError as exc:
            st.error(str(exc))
        else:
            st.session_state.pop(OPEN_KEY, None)
            st.session_state["flash"] = "The photo and its faces are deleted."
            st.rerun()


def _face_words(face: FaceInfo) -> str:
    """'#12 · Ann · 0.99' (the number is the box's label on the photo), plus why the face is poor when it is."""
    name = md(face.person_name) if face.person_name else "Unnamed"
    quality = "" if face.quality_ok else " · " + md(", ".join(face.quality_reasons) or "poor quality")
    return f"#{face.id} · {name} · {face.score:.2f}{quality}"
