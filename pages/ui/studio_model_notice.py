"""The notice a library shows while some of its faces still carry another face model's vectors."""

from __future__ import annotations

import streamlit as st

from core.config import get_settings
from core.studio.reembed import stale_faces
from pages.ui.studio_words import counted


def stale_model_notice(owner_id: int) -> None:
    """Say how many faces are left out of search and grouping until re-embedded, and where to follow it."""
    left = stale_faces(owner_id)
    if not left:
        return
    st.info(
        f"{counted(left, 'face')} of your library were found with another face model and are being re-embedded "
        f"for the configured one ({get_settings().embedder}); until then they are left out of search and grouping. "
        "Follow it in Studio › History.",
        icon=":material/sync:",
    )
