"""Reset a forgotten password: ask for a link by email, or open one (`?token=...`) and choose a new password.

Open to visitors. Asking says the same whether or not the email has an account. Without a mail server
the page says how else to get a link: an admin makes one on the Admin page.
"""

from __future__ import annotations

import streamlit as st

from core.accounts.password_policy import MIN_PASSWORD
from core.accounts.resets import account_for, email_configured, email_reset_link, reset_password
from core.accounts.users import AccountError
from core.config import get_settings
from pages.ui.components import SIGN_IN, flash, md, show_flash
from pages.ui.session import current_user, sign_out


def _choose_new(token: str) -> None:
    try:
        account = account_for(token)
    except AccountError as exc:
        st.error(str(exc))
        st.page_link("pages/reset_password.py", label="Ask for a new link", query_params={})
        return
    st.markdown(f"Choose a new password for **{md(account.email)}**. Every sign-in of this account ends.")
    with st.form("new-password", clear_on_submit=True):
        new = st.text_input(
            "New password",
            type="password",
            autocomplete="new-password",
            help=f"At least {MIN_PASSWORD} characters and hard to guess; a few unrelated words work well.",
        )
        repeated = st.text_input("New password again", type="password", autocomplete="new-password")
        submitted = st.form_submit_button("Set the new password", type="primary", icon=":material/key:")
    if not submitted:
        return
    try:
        reset_password(token, new, repeated)
    except AccountError as exc:
        st.error(str(exc))
        return
    me = current_user()
    if me is not None and me.id == account.id:
        sign_out()  # this tab's session ended with the others
    st.query_params.clear()
    flash("Your password is changed and every sign-in of your account has ended. Sign in with the new password.")
    st.switch_page(SIGN_IN)


def _ask_for_link() -> None:
    if not email_configured():
        st.info(
            "This site does not send emails. Ask one of its admins for a reset link: they can make one on their "
            "Admin page, for your account.",
            icon=":material/support_agent:",
        )
        return
    minutes = get_settings().reset_link_minutes
    st.markdown(f"Type your account's email: we send it a link to choose a new password. It works once, for {minutes} "
                "minutes.")
    with st.form("forgot"):
        email = st.text_input("Email", autocomplete="email")
        submitted = st.form_submit_button("Send me a reset link", type="primary", icon=":material/forward_to_inbox:")
    if submitted:
        try:
            email_reset_link(email)
        except AccountError as exc:
            st.error(str(exc))
        else:
            st.success("If an account has this email, a reset link is on its way to it. Check your inbox (and spam).")


show_flash()
st.title("Reset your password")
token = st.query_params.get("token")
if token:
    _choose_new(token)
else:
    _ask_for_link()
st.page_link(SIGN_IN, label="Back to sign in", icon=":material/login:")
