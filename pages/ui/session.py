"""Who is signed in, and the gate every member-only page passes through first.

The sign-in is a session token (core/accounts/sessions.py): the browser keeps it in a cookie, so a
reload or a new tab stays signed in, and this Streamlit session keeps it in `session_state`, so the
tab that just signed in need not wait for a reload to send the cookie. Every run looks the token up
in the database, so a session signed out in another tab, an expired one or a deleted account signs
this tab out on its next action.

Why each page checks for itself: Streamlit runs a script in `pages/` directly, without `app.py`,
when the very first request of a fresh server names it. The gate re-reads the account from the
database, so a direct run, a stale session or a deleted account sees nothing.
"""

from __future__ import annotations

import streamlit as st

from core.accounts import sessions
from core.accounts.sessions import Method, SessionInfo
from core.accounts.users import UserInfo, get_user
from core.config import get_settings
from pages.ui.components import SIGN_IN
from pages.ui.session_cookie import cookie_token, drop_cookie, keep_cookie

TOKEN_KEY = "session_token"  # the token this tab holds: from the cookie at connection, or from its own sign-in


def current_token() -> str | None:
    """This tab's token (live or ended), for actions that must keep this session while ending the others."""
    if TOKEN_KEY not in st.session_state:
        st.session_state[TOKEN_KEY] = cookie_token()
    return st.session_state[TOKEN_KEY]


def current_session() -> SessionInfo | None:
    """The live session behind this tab, its expiry slid forward; None when signed out, revoked or expired."""
    return sessions.touch(current_token())


def signed_in_user() -> UserInfo | None:
    """The account behind this browser session, read afresh; a vanished account or session is forgotten."""
    session = current_session()
    user = get_user(session.user_id) if session else None
    if user is None:
        st.session_state.pop("user_id", None)
    else:
        st.session_state["user_id"] = user.id
    st.session_state["user"] = user
    return user


def sign_in_as(user: UserInfo, method: Method) -> None:
    """Open a session for `user` (by "password" or "face"); `sync_session_cookie` hands it to the browser."""
    token, _ = sessions.create(user.id, method)
    st.session_state[TOKEN_KEY] = token
    st.session_state["user_id"] = user.id


def sign_out() -> None:
    """End this session everywhere it is open; the token stays in this tab only so its cookie is dropped."""
    sessions.revoke(current_token())
    for key in ("user_id", "user", "after_sign_in", "downloads"):
        st.session_state.pop(key, None)


def sync_session_cookie() -> None:
    """Once per run (app.py): renew the browser's cookie while the session lives, drop it once it ended."""
    token = current_token()
    if token is None:
        return
    if current_user() is not None:
        keep_cookie(token, get_settings().session_days * 86_400)
    else:
        drop_cookie(token)


def current_user() -> UserInfo | None:
    """The account `app.py` resolved for this run, or resolved now when a page runs without it."""
    if "user" not in st.session_state:
        return signed_in_user()
    return st.session_state["user"]


def require_member() -> UserInfo:
    """The signed-in account; anyone else gets a sign-in link and the page stops here."""
    user = signed_in_user()
    if user is None:
        st.info("Please sign in to open this page.", icon=":material/lock:")
        st.page_link(SIGN_IN, label="Sign in", icon=":material/login:")
        st.stop()
    return user
