"""Face galleries: thumbnails in a grid with pagination, optionally with a tick box under each face.

The thumbnails come from core.studio.thumbs as JPEG bytes (cropped and cached on the server), so the
page never opens a photo itself. Ticks are kept per face id, so a selection survives paging.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import streamlit as st

from core.studio import thumbs
from core.studio.records import FaceInfo
from pages.ui.components import md
from pages.ui.studio_pager import page_of

FACE_SIDE = 112


def pick_key(key: str, face_id: int) -> str:
    """The session key of one face's tick box in gallery `key` (tests tick it by this key)."""
    return f"{key}-pick-{face_id}"


def face_label(face: FaceInfo) -> str:
    """Who the face is, or what is known about it, in a few words (Markdown-escaped)."""
    if face.person_name:
        return md(face.person_name)
    if face.suggested_person_name:
        return f"{md(face.suggested_person_name)}?"
    return "Poor quality" if not face.quality_ok else "Unnamed"


def face_gallery(
    owner_id: int,
    faces: Sequence[FaceInfo],
    key: str,
    *,
    columns: int = 8,
    page_size: int = 32,
    selectable: bool = False,
    caption: Callable[[FaceInfo], str] | None = face_label,
) -> list[int]:
    """Draw `faces` as a paginated grid; returns the ids of the ticked faces (on every page)."""
    if not faces:
        st.caption("No faces here.")
        return []
    shown = page_of(faces, f"{key}-page", page_size)
    for start in range(0, len(shown), columns):
        for column, face in zip(st.columns(columns), shown[start : start + columns], strict=False):
            with column:
                st.image(thumbs.face_thumbnail(owner_id, face.id, side=FACE_SIDE), width="stretch")
                if caption is not None:
                    st.caption(caption(face))
                if selectable:
                    st.checkbox(f"Face {face.id}", key=pick_key(key, face.id))
    return [face.id for face in faces if selectable and st.session_state.get(pick_key(key, face.id))]


def clear_picks(key: str, face_ids: Sequence[int]) -> None:
    """Untick faces after an action used them (they may have left the gallery)."""
    for face_id in face_ids:
        st.session_state.pop(pick_key(key, face_id), None)
