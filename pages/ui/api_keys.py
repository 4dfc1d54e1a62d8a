"""My profile > API keys: make a key for a program (shown once), see my keys by prefix, revoke one."""

from __future__ import annotations

import streamlit as st

from core.accounts.api_keys import ApiKeyInfo, create_key, list_keys, revoke_key
from core.accounts.credentials import confirm_password
from core.accounts.users import AccountError, UserInfo
from core.config import get_settings
from pages.ui.components import flash, md, when

NEW_KEY = "api-key-just-made"  # the token, kept in the session only until the person says it is copied
_SCOPES = {"Read only (look, search, recognise)": "read", "Read and write (also import, change, delete)": "write"}


def _state(key: ApiKeyInfo) -> str:
    if key.revoked_at is not None:
        return f"revoked {when(key.revoked_at)}"
    return f"last used {when(key.last_used_at)}" if key.last_used_at else "not used yet"


def _new_key_shown() -> bool:
    token = st.session_state.get(NEW_KEY)
    if not token:
        return False
    st.success("Your new key: copy it now. WebTube keeps only a fingerprint of it and cannot show it again.")
    st.code(token, language=None)
    if st.button("I have copied it", icon=":material/check:"):
        st.session_state.pop(NEW_KEY)
        st.rerun()
    return True


def render_api_keys(user: UserInfo) -> None:
    st.subheader("API keys", anchor="api-keys")
    settings = get_settings()
    st.caption(f"Programs use your studio through the HTTP API (`python -m core api`, port {settings.api_port}; "
               "its documentation is at /docs there) with a key sent as `X-API-Key`. A key acts as you.")
    if not _new_key_shown():
        with st.form("api-key", clear_on_submit=True):
            name = st.text_input("Key name", placeholder="the program that will use it", max_chars=80)
            scope = st.radio("Scope", list(_SCOPES), horizontal=True)
            password = st.text_input("Your password", type="password", autocomplete="current-password",
                                     help="A key lasts until it is revoked, so making one asks for your password.")
            if st.form_submit_button("Make a key", icon=":material/key:"):
                try:
                    confirm_password(user.id, password)
                    token, _ = create_key(user.id, name, _SCOPES[scope])
                except AccountError as exc:
                    flash(str(exc), kind="error")
                else:
                    st.session_state[NEW_KEY] = token
                st.rerun()
    for key in list_keys(user.id):
        with st.container(horizontal=True, vertical_alignment="center"):
            st.markdown(f"`{key.prefix}…` **{md(key.name)}** · {' and '.join(key.scopes)} · made "
                        f"{when(key.created_at)} · {_state(key)}")
            if key.active and st.button("Revoke", key=f"revoke-key-{key.id}", icon=":material/block:"):
                revoke_key(user.id, key.id)
                flash(f"The key {key.prefix}… ({md(key.name)}) is revoked: programs using it are refused at once.")
                st.rerun()
