"""Admin: accounts (search, unlock, promote, demote, sign out everywhere, reset link, face samples, delete) and
videos (remove, with a reason the author reads).

Admins only, and only in a password-confirmed session: the admin types their password once per sign-in
before the screen opens, whether they signed in with it or with their face. Every action is checked again
in core (core.accounts.admin), so a stale page cannot act for someone who is no longer an admin.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn

import streamlit as st

from core.accounts import admin
from core.accounts.admin import AccountRow, VideoRow
from core.accounts.credentials import confirm_session, session_confirmed
from core.accounts.resets import reset_url
from core.accounts.users import AccountError, format_wait
from core.config import get_settings
from pages.ui.components import WATCH, flash, md, show_flash, when
from pages.ui.session import current_token, require_member

user = require_member()  # before anything else: a direct run of this file shows visitors nothing

LINK_KEY = "admin-reset-link"  # (account id, link) of the last reset link made, shown once under that account


def _done(message: str) -> NoReturn:
    flash(message)
    st.rerun()


def _refused(message: str) -> NoReturn:
    flash(message, kind="error")
    st.rerun()


def _act(action: Callable[[], object], message: str) -> NoReturn:
    try:
        action()
    except AccountError as exc:
        _refused(str(exc))
    _done(message)


def _confirm_gate() -> None:
    """Stop here until this session's password has been typed again."""
    if session_confirmed(current_token()):
        return
    st.info("Type your password to open the admin screen. It is asked once per sign-in.", icon=":material/shield:")
    with st.form("admin-confirm", clear_on_submit=True):
        password = st.text_input("Your password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Open the admin screen", type="primary", icon=":material/lock_open:")
    if submitted:
        try:
            confirm_session(current_token(), password)
        except AccountError as exc:
            st.error(str(exc))
        else:
            st.rerun()
    st.stop()


def _site_url() -> str:
    """Where reset links point: WEBTUBE_PUBLIC_URL, else the address this admin's browser uses (they see the link)."""
    configured = get_settings().public_url
    if configured:
        return configured
    here = (st.context.url or "").rstrip("/")
    return here.removesuffix("/admin")


def _facts(row: AccountRow) -> str:
    facts = [f"joined {when(row.created_at)}", "admin" if row.is_admin else "member",
             f"{row.sessions} sign-in{'s' if row.sessions != 1 else ''} open", f"{row.videos} video(s)",
             f"face sign-in: {row.face_samples} sample(s)" if row.face_samples else "no face sign-in"]
    if row.locked_s:
        facts.append(f"**locked** for {format_wait(row.locked_s)}")
    elif row.failures:
        facts.append(f"{row.failures} failed sign-in(s)")
    return " · ".join(facts)


def _confirmed_button(label: str, key: str, warning: str, action: Callable[[], object], message: str) -> None:
    """A button that asks once more before acting."""
    asked = f"ask-{key}"
    if not st.session_state.get(asked):
        if st.button(label, key=key):
            st.session_state[asked] = True
            st.rerun()
        return
    st.warning(warning)
    yes, no = st.columns(2)
    if yes.button(f"Yes, {label[:1].lower()}{label[1:]}", key=f"yes-{key}", type="primary"):
        st.session_state.pop(asked)
        _act(action, message)
    if no.button("Cancel", key=f"no-{key}"):
        st.session_state.pop(asked)
        st.rerun()


def _account(row: AccountRow, expanded: bool) -> None:
    label = f"{md(row.display_name)} · {md(row.email)}" + (" · admin" if row.is_admin else "")
    label += " · locked" if row.locked_s else ""
    with st.expander(label, expanded=expanded, icon=":material/lock:" if row.locked_s else ":material/person:"):
        st.caption(_facts(row))
        with st.container(horizontal=True):
            unlockable = row.locked_s or row.failures
            if unlockable and st.button("Unlock", key=f"unlock-{row.id}", icon=":material/lock_open:"):
                _act(lambda: admin.unlock_account(user.id, row.id), f"{row.email} can sign in again.")
            if row.is_admin:
                if st.button("Demote", key=f"demote-{row.id}", icon=":material/remove_moderator:"):
                    _act(lambda: admin.set_admin(user.id, row.id, False), f"{row.email} is no longer an admin.")
            elif st.button("Promote to admin", key=f"promote-{row.id}", icon=":material/add_moderator:"):
                _act(lambda: admin.set_admin(user.id, row.id, True), f"{row.email} is now an admin.")
            if row.sessions and st.button("Sign out everywhere", key=f"signout-{row.id}", icon=":material/logout:"):
                _act(lambda: admin.sign_out_everywhere(user.id, row.id), f"{row.email} is signed out everywhere.")
            if st.button("Make a reset link", key=f"reset-{row.id}", icon=":material/link:"):
                try:
                    token = admin.issue_reset_link(user.id, row.id)
                except AccountError as exc:
                    _refused(str(exc))
                st.session_state[LINK_KEY] = (row.id, reset_url(_site_url(), token))
                st.rerun()
        made = st.session_state.get(LINK_KEY)
        if made and made[0] == row.id:
            minutes = get_settings().reset_link_minutes
            st.markdown(f"Give this link to {md(row.email)} (it works once, for {minutes} minutes; "
                        "older links stop working):")
            st.code(made[1], language=None)
        if row.face_samples:
            _confirmed_button(
                "Clear face samples", f"face-{row.id}",
                f"Delete the {row.face_samples} face sample(s) of {md(row.email)}? Face sign-in stops for them "
                "until they enrol again.",
                lambda: admin.clear_face_data(user.id, row.id), f"The face samples of {row.email} are deleted.",
            )
        _confirmed_button(
            "Delete account", f"delete-{row.id}",
            f"Delete {md(row.email)} and everything of it (videos, face data, studio library)? It cannot be undone.",
            lambda: admin.remove_account(user.id, row.id), f"The account {row.email} is deleted.",
        )


def _video(row: VideoRow) -> None:
    with st.expander(f"{md(row.title)} · by {md(row.owner_name)} · {when(row.created_at)}"):
        st.page_link(WATCH, label="Open the video page", icon=":material/smart_display:",
                     query_params={"v": str(row.id)})
        with st.form(f"remove-{row.id}", clear_on_submit=True):
            reason = st.text_input("Reason (shown to the author)", max_chars=admin.MAX_REASON)
            if st.form_submit_button("Remove this video", icon=":material/delete:"):
                _act(lambda: admin.remove_video(user.id, row.id, reason),
                     f"“{row.title}” is removed; {row.owner_email} will read why.")


if not user.is_admin:
    st.title("Admin")
    st.error("This page is for the site's admins; your account is not one.", icon=":material/block:")
    st.stop()
st.title("Admin")
_confirm_gate()
show_flash()
accounts_tab, videos_tab = st.tabs(["Accounts", "Videos"], key="admin-part", on_change="rerun")
if accounts_tab.open:
    with accounts_tab:
        query = st.text_input("Search accounts by email or name", key="admin-account-search",
                              placeholder="e.g. ann or @example.com")
        rows = admin.search_accounts(user.id, query)
        st.caption(f"{len(rows)} account(s)" + (f" (the first {admin.LISTED})" if len(rows) == admin.LISTED else ""))
        for account in rows:
            _account(account, expanded=len(rows) == 1)  # the one account found opens at once
if videos_tab.open:
    with videos_tab:
        query = st.text_input("Search videos by title or author", key="admin-video-search")
        videos = admin.search_videos(user.id, query)
        if not videos:
            st.caption("No videos found.")
        for video in videos:
            _video(video)
