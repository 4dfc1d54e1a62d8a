"""Register: name, email, password typed twice; the new account is signed in at once."""

from __future__ import annotations

import streamlit as st

from core.accounts.password_policy import MIN_PASSWORD
from core.accounts.users import AccountError, register
from pages.ui.components import FEED, SIGN_IN, flash, md
from pages.ui.session import current_user, sign_in_as

if current_user() is not None:  # already signed in
    st.switch_page(FEED)
st.title("Create your account")
with st.form("register"):
    name = st.text_input("Display name", autocomplete="name")
    email = st.text_input("Email", autocomplete="email")
    password = st.text_input(
        "Password",
        type="password",
        autocomplete="new-password",
        help=f"At least {MIN_PASSWORD} characters and hard to guess; a few unrelated words work well.",
    )
    repeated = st.text_input("Password again", type="password", autocomplete="new-password")
    submitted = st.form_submit_button("Register", type="primary", icon=":material/person_add:")

if submitted:
    try:
        user = register(name, email, password, repeated)
    except AccountError as exc:
        st.error(str(exc))
    else:
        sign_in_as(user, "password")
        admin = " As the first account, you are the site's admin." if user.is_admin else ""
        flash(f"Welcome to WebTube, {md(user.display_name)}!{admin}")
        st.switch_page(st.session_state.pop("after_sign_in", FEED))

st.page_link(SIGN_IN, label="Already registered? Sign in", icon=":material/login:")
