"""WebTube's entry point: page setup, navigation, the sign-in gate and the sidebar.

Run with `streamlit run app.py`. The account behind the session is re-read from the database on
every run, so a renamed or deleted account shows at once.
"""

from __future__ import annotations

import streamlit as st

from core.accounts import get_user
from core.profiles import avatar_file
from views._components import md

st.set_page_config(page_title="WebTube", page_icon=":material/smart_display:", layout="wide")

user = get_user(st.session_state.get("user_id"))
if user is None:
    st.session_state.pop("user_id", None)
st.session_state["user"] = user
signed_in = user is not None


def _visible(for_members: bool) -> str:
    return "visible" if for_members == signed_in else "hidden"


feed = st.Page("views/feed.py", title="Home", icon=":material/home:", default=True)
watch = st.Page("views/watch.py", title="Video", icon=":material/smart_display:", url_path="watch", visibility="hidden")
share = st.Page("views/share.py", title="Share a video", icon=":material/add_link:", visibility=_visible(True))
profile = st.Page("views/profile.py", title="My profile", icon=":material/person:", visibility=_visible(True))
sign_in = st.Page("views/sign_in.py", title="Sign in", icon=":material/login:", visibility=_visible(False))
register = st.Page("views/register.py", title="Register", icon=":material/person_add:", visibility=_visible(False))

page = st.navigation([feed, watch, share, profile, sign_in, register])

members_only = {share.url_path: "views/share.py", profile.url_path: "views/profile.py"}
if not signed_in and page.url_path in members_only:
    st.session_state["after_sign_in"] = members_only[page.url_path]
    st.session_state["sign_in_reason"] = f"Please sign in to open “{page.title}”."
    st.switch_page(sign_in)

with st.sidebar:
    if user is None:
        st.caption("Not signed in")
    else:
        picture = avatar_file(user)
        if picture is not None:
            st.image(str(picture), width=64)
        st.markdown(f"Signed in as **{md(user.display_name)}**")
        st.caption(md(user.email) + (" · admin" if user.is_admin else ""))
        if st.button("Sign out", icon=":material/logout:"):
            for key in ("user_id", "user", "after_sign_in", "downloads"):
                st.session_state.pop(key, None)
            st.session_state["flash"] = "You are signed out."
            st.switch_page(feed)

page.run()
