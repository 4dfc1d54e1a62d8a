"""My profile: avatar, display name, password, face sign-in, and my videos (edit or delete each)."""

from __future__ import annotations

import streamlit as st

from core.accounts.credentials import change_password
from core.accounts.password_policy import MIN_PASSWORD
from core.accounts.profiles import (
    AVATAR_TYPES,
    MAX_AVATAR_BYTES,
    AvatarRejected,
    avatar_file,
    remove_avatar,
    rename,
    set_avatar,
)
from core.accounts.users import AccountError
from core.videos.records import VideoDetail
from core.videos.sharing import (
    MAX_CATEGORIES,
    MAX_COMMENT,
    VideoError,
    delete_video,
    list_categories,
    update_video,
    videos_of,
)
from pages.ui.components import SHARE, WATCH, flash, md, show_flash, thumbnail, when
from pages.ui.face_snapshot import render_face_snapshot
from pages.ui.session import current_token, require_member

user = require_member()  # before anything else: a direct run of this file shows visitors nothing


def _changed(message: str) -> None:
    """Show the change everywhere (the sidebar was drawn before this page ran)."""
    flash(message)
    st.rerun()


def _avatar_and_name() -> None:
    picture_column, form_column = st.columns([1, 3], gap="large")
    with picture_column:
        picture = avatar_file(user)
        if picture is not None:
            st.image(str(picture), width=160)
            if st.button("Remove picture", icon=":material/delete:"):
                remove_avatar(user.id)
                _changed("Your picture is removed.")
        else:
            st.caption("No picture yet.")
    with form_column, st.form("avatar", clear_on_submit=True):
        upload = st.file_uploader(
            "New picture (JPG, PNG or WEBP)",
            type=list(AVATAR_TYPES),
            max_upload_size=MAX_AVATAR_BYTES // 2**20,
        )
        if st.form_submit_button("Save picture", icon=":material/upload:") and upload is not None:
            try:
                set_avatar(user.id, upload.getvalue())
            except AvatarRejected as exc:
                st.error(str(exc))
            else:
                _changed("Your picture is saved.")
    with st.form("name"):
        name = st.text_input("Display name", value=user.display_name)
        if st.form_submit_button("Save name", icon=":material/badge:"):
            try:
                rename(user.id, name)
            except AccountError as exc:
                st.error(str(exc))
            else:
                _changed("Your name is saved.")


def _password() -> None:
    """Change the password; the current one is always asked for (a face-only session's re-authentication)."""
    st.subheader("Password", anchor=False)
    with st.form("password", clear_on_submit=True):
        current = st.text_input("Current password", type="password", autocomplete="current-password")
        new = st.text_input(
            "New password",
            type="password",
            autocomplete="new-password",
            help=f"At least {MIN_PASSWORD} characters and hard to guess; a few unrelated words work well.",
        )
        repeated = st.text_input("New password again", type="password", autocomplete="new-password")
        if st.form_submit_button("Change password", icon=":material/key:"):
            try:
                ended = change_password(user.id, current, new, repeated, current_token())
            except AccountError as exc:
                st.error(str(exc))
            else:
                elsewhere = f" {ended} other sign-in{'' if ended == 1 else 's'} ended." if ended else ""
                _changed(f"Your password is changed.{elsewhere}")


def _editor(video: VideoDetail, names: dict[str, str]) -> None:
    card = video.card
    with st.expander(f"{md(card.title)} · {when(card.created_at)}"):
        thumb, links = st.columns([1, 3])
        with thumb:
            thumbnail(card)
        with links:
            st.page_link(
                WATCH, label="Open the video page", icon=":material/smart_display:", query_params={"v": str(card.id)}
            )
        with st.form(f"edit-{card.id}"):
            title = st.text_input("Title", value=card.title)
            comment = st.text_area("Comment", value=video.comment, help=f"Up to {MAX_COMMENT:,} characters.")
            slugs = st.multiselect(
                "Categories",
                options=list(names),
                default=[c.slug for c in card.categories],
                format_func=names.__getitem__,
                max_selections=MAX_CATEGORIES,
                placeholder="Type to search categories",
            )
            if st.form_submit_button("Save changes", icon=":material/save:"):
                try:
                    update_video(user.id, card.id, title, comment, slugs)
                except VideoError as exc:
                    st.error(str(exc))
                else:
                    _changed(f"Saved “{md(title.strip())}”.")
        confirm_key = f"confirm-delete-{card.id}"
        if not st.session_state.get(confirm_key):
            if st.button("Delete this video", key=f"delete-{card.id}", icon=":material/delete:"):
                st.session_state[confirm_key] = True
                st.rerun()
        else:
            st.warning("Delete this video for good? Its page goes too.")
            yes, no = st.columns(2)
            if yes.button("Yes, delete it", key=f"really-{card.id}", type="primary"):
                st.session_state.pop(confirm_key)
                try:
                    delete_video(user.id, card.id)
                except VideoError as exc:
                    st.error(str(exc))
                else:
                    _changed(f"Deleted “{md(card.title)}”.")
            if no.button("Keep it", key=f"keep-{card.id}"):
                st.session_state.pop(confirm_key)
                st.rerun()


show_flash()
st.title("My profile")
_avatar_and_name()
st.divider()
_password()
st.divider()
render_face_snapshot(user)
st.divider()
st.subheader("My videos", anchor=False)
mine = videos_of(user.id)
if not mine:
    st.caption("You have not shared any videos yet.")
    st.page_link(SHARE, label="Share a video", icon=":material/add_link:")
names = {c.slug: c.name for c in list_categories()}
for video in mine:
    _editor(video, names)
