"""Studio › Export: every face of the library as CSV or JSON (photo, album, box, score, quality, person,
cluster), with the embeddings as a file beside it if asked."""

from __future__ import annotations

import streamlit as st

from core.studio import export
from core.studio.errors import StudioError
from pages.ui.session import require_member

user = require_member()  # before anything else: a direct run of this file shows visitors nothing

MIME = {
    "csv": "text/csv",
    "json": "application/json",
    "npy": "application/octet-stream",
    "parquet": "application/vnd.apache.parquet",
}
FILES_KEY = "studio_export_files"

st.title("Export", anchor=False)
st.caption(
    "One row per face: the photo (id, file name, where it came from), album, source, box, score, quality, "
    "person and group."
)
fmt = st.radio("Format", ["csv", "json"], format_func=str.upper, horizontal=True)
embeddings = st.checkbox("Include the embeddings (a separate file, one vector per face)")
if st.button("Prepare the export", type="primary", icon=":material/inventory_2:"):
    try:
        files = export.export_faces(user.id, fmt=fmt, embeddings=embeddings)
    except StudioError as exc:
        st.error(str(exc))
    else:
        st.session_state[FILES_KEY] = [path for path in (files.main, files.embeddings) if path is not None]
for path in st.session_state.get(FILES_KEY, []):
    st.download_button(
        f"Download {path.name}",
        path.read_bytes(),
        path.name,
        MIME.get(path.suffix.lstrip("."), "application/octet-stream"),
        icon=":material/download:",
        key=f"export-{path.name}",
    )
