"""Studio › Library: import photos (uploads, a zip, a cloud link, or for admins a server folder), albums, the photo
grid with faces boxed, the "No faces" view and the files that failed."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.config import get_settings
from core.jobs import queue
from core.studio import intake, jobs, library
from core.studio.errors import StudioError
from core.studio.records import AlbumInfo
from pages.ui.components import md, show_flash
from pages.ui.session import require_member
from pages.ui.studio_cloud import cloud_form
from pages.ui.studio_jobs import JOB_KEY, PHOTO_IMPORTS, job_panel
from pages.ui.studio_pager import pager
from pages.ui.studio_photos import photo_detail, photo_grid
from pages.ui.studio_words import counted

user = require_member()  # before anything else: a direct run of this file shows visitors nothing

UPLOAD_TYPES = ["jpg", "jpeg", "png", "webp", "zip"]
VIEWS = {"Photos": "processed", "No faces": "no_faces", "Failed": "failed"}
PAGE_SIZE = 24


def _start(sources: list[Path], album: str, source: str) -> None:
    job_id = jobs.start_import(user.id, sources, album, source=source)
    st.session_state[JOB_KEY] = job_id


def _upload_form() -> None:
    with st.form("studio-upload", clear_on_submit=True):
        files = st.file_uploader(
            "Photos or a zip of photos (JPG, PNG, WEBP or ZIP)",
            type=UPLOAD_TYPES,
            accept_multiple_files=True,
            max_upload_size=get_settings().max_upload_mb,
        )
        album = st.text_input("Album name", placeholder="e.g. Summer 2026", max_chars=120)
        if st.form_submit_button("Import", icon=":material/upload:"):
            if not files:
                st.error("Choose at least one photo or zip to import.")
                return
            try:
                staged = jobs.stage_uploads(user.id, [(file.name, file.getvalue()) for file in files])
                _start(staged, album.strip() or "Uploads", "upload")
            except StudioError as exc:
                st.error(str(exc))


def _folder_form() -> None:
    """Admins only: a folder on the server, only under WEBTUBE_STUDIO_IMPORT_ROOTS (the core checks both)."""
    roots = intake.import_roots()
    if not roots:
        st.caption("Importing server folders from the page is off: set WEBTUBE_STUDIO_IMPORT_ROOTS.")
        return
    st.caption("Allowed under: " + ", ".join(md(str(root)) for root in roots))
    with st.form("studio-folder"):
        folder = st.text_input("Folder on the server")
        album = st.text_input("Album for the folder", max_chars=120)
        if st.form_submit_button("Import folder", icon=":material/drive_folder_upload:"):
            try:
                _start([Path(folder.strip())], album.strip() or Path(folder.strip()).name, "folder")
            except StudioError as exc:
                st.error(str(exc))


def _adopt_running_job() -> None:
    """A tab opened while an import runs (or after a restart resumed it) shows that import's progress."""
    if JOB_KEY not in st.session_state:
        running = [job for job in queue.recent_jobs(user.id, limit=10)
                   if job.kind in PHOTO_IMPORTS and not job.finished]
        if running:
            st.session_state[JOB_KEY] = running[0].id


def _album_choice(albums: list[AlbumInfo]) -> int | None:
    names = {album.id: f"{album.name} ({album.photo_count} photos, {album.face_count} faces)" for album in albums}
    return st.selectbox(
        "Album", options=[None, *names], format_func=lambda a: "All photos" if a is None else names[a], key="lib-album"
    )


def _delete_album(album_id: int, albums: list[AlbumInfo]) -> None:
    name = next(album.name for album in albums if album.id == album_id)
    with st.expander(f"Delete the album “{md(name)}”", icon=":material/delete:"):
        with_photos = st.checkbox("Also delete its photos and their faces", key="lib-del-photos")
        sure = st.checkbox("Yes, delete this album", key="lib-del-sure")
        if st.button("Delete album", disabled=not sure, type="primary"):
            try:
                library.delete_album(user.id, album_id, delete_photos=with_photos)
            except StudioError as exc:
                st.error(str(exc))
            else:
                st.session_state["flash"] = f"The album “{name}” is deleted."
                for key in ("lib-album", "lib-del-photos", "lib-del-sure"):
                    st.session_state.pop(key, None)
                st.rerun()


st.title("Library", anchor=False)
show_flash()
_adopt_running_job()
albums = library.list_albums(user.id)
with st.expander("Import photos", icon=":material/add_photo_alternate:", expanded=not albums):
    tabs = st.tabs(["Upload", "From a link", *(["Server folder"] if user.is_admin else [])])
    with tabs[0]:
        _upload_form()
    with tabs[1]:
        cloud_form(user.id)
    if user.is_admin:
        with tabs[2]:
            _folder_form()
job_panel(user.id)
photo_detail(user.id)

album_column, view_column = st.columns([3, 2], vertical_alignment="bottom")
with album_column:
    album_id = _album_choice(albums) if albums else None
with view_column:
    view = st.segmented_control("Show", options=list(VIEWS), default="Photos", key="lib-view") or "Photos"
first = library.list_photos(user.id, album_id=album_id, status=VIEWS[view], page=1, page_size=PAGE_SIZE)
if first.total == 0:
    st.caption(
        {
            "Photos": "No photos with faces yet: import some above.",
            "No faces": "Every photo here has at least one face.",
            "Failed": "No file failed to import.",
        }[view]
    )
else:
    st.caption(counted(first.total, "photo"))
    page = pager(f"lib-page-{album_id}-{view}", first.pages)
    shown = first if page == 1 else library.list_photos(user.id, album_id, VIEWS[view], page, PAGE_SIZE)
    photo_grid(user.id, shown.items, key="library")
if album_id is not None:
    _delete_album(album_id, albums)
