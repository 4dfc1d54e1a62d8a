"""Sign in with email and password, or with your face (beside it); repeated failures lock the email.

The face panel's camera widget reruns the page a moment after each run, so the form's messages are
flashes kept through those reruns; from two attempts before the lock the page says how many are left.
"""

from __future__ import annotations

import time

import streamlit as st

from core.accounts.users import WARN_AT_ATTEMPTS, AccountError, attempts_left, attempts_warning, sign_in
from pages.ui.components import FEED, FLASH_KEEP_S, REGISTER, RESET_PASSWORD, flash, full_stop, md, show_flash
from pages.ui.face_signin import render_face_signin
from pages.ui.session import current_user, sign_in_as

PLACE = "sign-in"

if current_user() is not None:  # already signed in
    st.switch_page(FEED)
show_flash(keep_s=FLASH_KEEP_S)
st.title("Sign in")
# Why the visitor was sent here ("Please sign in to open …"), kept through the camera widget's reruns.
reason = st.session_state.get("sign_in_reason")
if isinstance(reason, str):
    reason = st.session_state["sign_in_reason"] = (reason, time.monotonic())
if reason and time.monotonic() - reason[1] <= FLASH_KEEP_S:
    st.info(reason[0])
elif reason:
    st.session_state.pop("sign_in_reason")

password_column, face_column = st.columns(2, gap="large")
with password_column:
    with st.form("sign_in"):
        email = st.text_input("Email", autocomplete="email")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary", icon=":material/login:")
    if submitted:
        try:
            user = sign_in(email, password)
        except AccountError as exc:
            left = attempts_left(email)
            near = left is not None and 0 < left <= WARN_AT_ATTEMPTS
            flash(str(exc), kind="error", where=PLACE, warning=attempts_warning(left) if near else None)
            st.rerun()
        sign_in_as(user, "password")
        flash(full_stop(f"Welcome back, {md(user.display_name)}"))
        st.switch_page(st.session_state.pop("after_sign_in", FEED))
    show_flash(where=PLACE, keep_s=FLASH_KEEP_S)
    st.page_link(RESET_PASSWORD, label="Forgot your password?", icon=":material/lock_reset:")
    st.page_link(REGISTER, label="No account yet? Register", icon=":material/person_add:")
with face_column:
    render_face_signin()
