"""Sign in with email and password, or with your face (beside it); repeated failures lock the email."""

from __future__ import annotations

import streamlit as st

from core.accounts.users import AccountError, sign_in
from pages.ui.components import FEED, REGISTER, flash, md, show_flash
from pages.ui.face_signin import render_face_signin
from pages.ui.session import current_user, sign_in_as

if current_user() is not None:  # already signed in
    st.switch_page(FEED)
show_flash()
st.title("Sign in")
reason = st.session_state.pop("sign_in_reason", None)
if reason:
    st.info(reason)

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
            st.error(str(exc))
        else:
            sign_in_as(user, "password")
            flash(f"Welcome back, {md(user.display_name)}.")
            st.switch_page(st.session_state.pop("after_sign_in", FEED))
    st.page_link(REGISTER, label="No account yet? Register", icon=":material/person_add:")
with face_column:
    render_face_signin()
