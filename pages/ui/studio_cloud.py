"""The Library's "From a link" form: a Yandex.Disk public link or a VK album (with a token) imported as a job.

The token field is a password field inside a form that clears on submit, so the token is neither shown nor
kept in the session once the job has it (sealed, core/cloud/token_box.py).
"""

from __future__ import annotations

import streamlit as st

from core.cloud.importer import start_cloud_import
from core.studio.errors import StudioError
from pages.ui.studio_jobs import JOB_KEY


def cloud_form(owner_id: int) -> None:
    """Paste a link (and for VK a token); the import starts in the background and shows in the job panel."""
    with st.form("studio-cloud", clear_on_submit=True):
        link = st.text_input("Link", placeholder="https://disk.yandex.ru/d/... or https://vk.com/album1_2",
                             max_chars=2048)
        album = st.text_input("Album name (optional)", max_chars=120, key="studio-cloud-album")
        token = st.text_input("VK access token (VK albums only)", type="password",
                              help="A token with the photos permission; WebTube keeps it only for this import.")
        if st.form_submit_button("Import from link", icon=":material/cloud_download:"):
            if not link.strip():
                st.error("Paste a link to import from.")
                return
            try:
                st.session_state[JOB_KEY] = start_cloud_import(owner_id, link.strip(), album.strip() or None,
                                                               token.strip() or None)
            except StudioError as exc:
                st.error(str(exc))
