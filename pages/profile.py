"""My profile in four parts: Account (picture, name, password, deleting the account), Face sign-in, API keys,
My videos.

The page holds a camera widget, which reruns the page a moment after each run: messages are flashes kept
through those reruns (`show_flash(keep_s=...)`), errors included, so nothing vanishes before it is read.
"""

from __future__ import annotations

from typing import NoReturn

import streamlit as st

from core.accounts.credentials import change_password, require_password_session
from core.accounts.deletion import account_contents, delete_account
from core.accounts.notices import dismiss, notices_of
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
from pages.ui.api_keys import render_api_keys
from pages.ui.components import FEED, FLASH_KEEP_S, SHARE, WATCH, flash, md, show_flash, thumbnail, when
from pages.ui.face_snapshot import render_face_snapshot
from pages.ui.session import current_session, current_token, require_member, sign_out

user = require_member()  # before anything else: a direct run of this file shows visitors nothing
ASKED_DELETE = "confirm-account-delete"


def _changed(message: str) -> NoReturn:
    """Show the change everywhere (the sidebar was drawn before this page ran)."""
    flash(message)
    st.rerun()


def _refused(message: str) -> NoReturn:
    """An error, as a flash: an inline one would be wiped by the camera widget's rerun a moment later."""
    flash(message, kind="error")
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
        if st.form_submit_button("Save picture", icon=":material/upload:"):
            if upload is None:
                _refused("Choose a picture first (JPG, PNG or WEBP), then press Save picture.")
            try:
                set_avatar(user.id, upload.getvalue())
            except AvatarRejected as exc:
                _refused(str(exc))
            else:
                _changed("Your picture is saved.")
    with st.form("name"):
        name = st.text_input("Display name", value=user.display_name)
        if st.form_submit_button("Save name", icon=":material/badge:"):
            try:
                rename(user.id, name)
            except AccountError as exc:
                _refused(str(exc))
            else:
                _changed("Your name is saved.")


def _password() -> None:
    """Change the password; the current one is always asked for (a face-only session's re-authentication)."""
    st.markdown("**Password**")
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
                _refused(str(exc))
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
                    _refused(str(exc))
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
                    _refused(str(exc))
                else:
                    _changed(f"Deleted “{md(card.title)}”.")
            if no.button("Keep it", key=f"keep-{card.id}"):
                st.session_state.pop(confirm_key)
                st.rerun()


def _notices() -> None:
    """Messages left for this account (why an admin removed a video), until dismissed."""
    for notice in notices_of(user.id):
        with st.container(horizontal=True, vertical_alignment="center"):
            st.warning(f"{md(notice.text)} ({when(notice.created_at)})", icon=":material/campaign:")
            if st.button("Dismiss", key=f"dismiss-{notice.id}"):
                dismiss(user.id, notice.id)
                st.rerun()


def _count(n: int, noun: str) -> str:
    return f"{n} {noun if n == 1 else 'people' if noun == 'person' else noun + 's'}"


def _listed(titles: tuple[str, ...]) -> str:
    shown = ", ".join(f"“{md(t)}”" for t in titles[:5])
    return shown + (f" and {len(titles) - 5} more" if len(titles) > 5 else "")


def _delete_account() -> None:
    """Deleting the account: what goes is said first, the email typed to confirm (and the password after a face
    sign-in); then the person is signed out and back on the feed."""
    if not st.session_state.get(ASKED_DELETE):
        if st.button("Delete my account", icon=":material/person_remove:"):
            st.session_state[ASKED_DELETE] = True
            st.rerun()
        return
    with st.container(border=True):
        held = account_contents(user.id)
        lines = [f"- your {_count(len(held.videos), 'shared video')}"
                 + (f": {_listed(held.videos)} (deleted, not handed to anyone)" if held.videos else ""),
                 f"- your picture, your {_count(held.face_samples, 'face sample')} and any snapshots kept with them",
                 f"- your studio library: {_count(held.photos, 'photo')}, {_count(held.people, 'person')}, "
                 f"{_count(held.albums, 'album')}, and {_count(held.jobs, 'job')}",
                 "- every sign-in of yours, on every device"]
        st.markdown("Deleting your account deletes, for good and at once:\n" + "\n".join(lines)
                    + "\n\nIt cannot be undone.")
        face_session = (session := current_session()) is not None and session.method == "face"
        with st.form("delete-account", clear_on_submit=True):
            typed = st.text_input("Type your email to confirm", autocomplete="off")
            password = st.text_input("Your password", type="password", autocomplete="current-password",
                                     help="Asked because you signed in with your face.") if face_session else None
            confirmed = st.form_submit_button(
                "Delete my account for good", type="primary", icon=":material/delete_forever:"
            )
        if st.button("Keep my account", key="keep-account"):
            st.session_state.pop(ASKED_DELETE, None)
            st.rerun()
        if not confirmed:
            return
        if typed.strip().lower() != user.email:
            _refused("The email you typed is not this account's: nothing was deleted.")
        try:
            require_password_session(current_token(), password)
            gone = delete_account(user.id)
        except AccountError as exc:
            _refused(str(exc))
        st.session_state.pop(ASKED_DELETE, None)
        sign_out()
        count = len(gone.videos)
        said = f" {count} video{'s' if count != 1 else ''} deleted with it." if count else ""
        flash(f"Your account {md(gone.email)} and everything of it are deleted.{said}")
        st.switch_page(FEED)


show_flash(keep_s=FLASH_KEEP_S)
st.title("My profile")
_notices()
st.markdown("[Account](#account) · [Face sign-in](#face-sign-in) · [API keys](#api-keys) · [My videos](#my-videos)")
with st.container(border=True):
    st.subheader("Account", anchor="account")
    _avatar_and_name()
    _password()
    _delete_account()
with st.container(border=True):
    render_face_snapshot(user)
with st.container(border=True):
    render_api_keys(user)
with st.container(border=True):
    st.subheader("My videos", anchor="my-videos")
    mine = videos_of(user.id)
    if not mine:
        st.caption("You have not shared any videos yet.")
        st.page_link(SHARE, label="Share a video", icon=":material/add_link:")
    names = {c.slug: c.name for c in list_categories()}
    for video in mine:
        _editor(video, names)
