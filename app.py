"""WebTube's entry point: page setup, navigation, the sign-in gate and the sidebar.

Run with `streamlit run app.py`. The session (the cookie's token) and its account are re-read from
the database on every run, so a renamed or deleted account, or a sign-out in another tab, shows at once.
"""

from __future__ import annotations

import threading
from pathlib import Path

import streamlit as st

from core.accounts.profiles import avatar_file
from core.jobs.queue import resume_interrupted
from core.studio.reembed import queue_reembedding
from pages.ui.components import CURRENT_PAGE, md
from pages.ui.layout import adaptive_layout
from pages.ui.session import sign_out, signed_in_user, sync_session_cookie

# A local icon file: a :material/...: page icon makes every browser fetch it from fonts.gstatic.com.
st.set_page_config(page_title="WebTube", page_icon=str(Path(__file__).parent / "static" / "webtube.png"), layout="wide")


@st.cache_resource(show_spinner=False)
def _carry_on_background_work() -> threading.Thread:
    """Once per server process, in a thread: jobs a restart cut short go back in the queue (nothing lost or
    doubled), and a library holding faces of another face model than the configured one gets its
    re-embedding job. Both are cheap queries; a model loads only if a job is then run here."""

    def carry_on() -> None:
        resume_interrupted()
        queue_reembedding()

    thread = threading.Thread(target=carry_on, name="jobs-resume", daemon=True)
    thread.start()
    return thread


_carry_on_background_work()

user = signed_in_user()
signed_in = user is not None
sync_session_cookie()


def _visible(for_members: bool) -> str:
    return "visible" if for_members == signed_in else "hidden"


feed = st.Page("pages/feed.py", title="Home", icon=":material/home:", default=True)
watch = st.Page("pages/watch.py", title="Video", icon=":material/smart_display:", url_path="watch", visibility="hidden")
author = st.Page("pages/author.py", title="Author", icon=":material/person:", url_path="author", visibility="hidden")
share = st.Page("pages/share.py", title="Share a video", icon=":material/add_link:", visibility=_visible(True))
profile = st.Page("pages/profile.py", title="My profile", icon=":material/person:", visibility=_visible(True))
sign_in = st.Page("pages/sign_in.py", title="Sign in", icon=":material/login:", visibility=_visible(False))
register = st.Page("pages/register.py", title="Register", icon=":material/person_add:", visibility=_visible(False))
system = st.Page(
    "pages/system.py", title="System", icon=":material/monitoring:",
    visibility="visible" if user is not None and user.is_admin else "hidden",
)
admin = st.Page(
    "pages/admin.py", title="Admin", icon=":material/admin_panel_settings:",
    visibility="visible" if user is not None and user.is_admin else "hidden",
)
reset_password = st.Page(  # reached from "Forgot your password?" and from reset links (?token=...)
    "pages/reset_password.py", title="Reset password", icon=":material/lock_reset:", visibility="hidden"
)

studio = [
    st.Page(f"pages/studio_{name}.py", title=title, icon=icon, url_path=f"studio_{name}", visibility=_visible(True))
    for name, title, icon in (
        ("people", "People", ":material/groups:"),
        ("library", "Library", ":material/photo_library:"),
        ("search", "Search", ":material/image_search:"),
        ("recognise", "Recognise", ":material/person_search:"),
        ("live", "Live", ":material/videocam:"),
        ("clusters", "Clusters", ":material/workspaces:"),
        ("videos", "Videos", ":material/movie:"),
        ("export", "Export", ":material/download:"),
        ("jobs", "History", ":material/history:"),
    )
]

site = [feed, watch, author, share, profile, sign_in, register, system, admin, reset_password]
# Visitors get no Studio header: a section of hidden pages would still draw its title.
page = st.navigation({"": site, "Studio": studio} if signed_in else [*site, *studio], expanded=True)

members_only = {member.url_path: f"pages/{member.url_path}.py" for member in (share, profile, system, admin)}
members_only |= {studio_page.url_path: f"pages/{studio_page.url_path}.py" for studio_page in studio}
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
            sign_out()
            st.session_state["flash"] = "You are signed out."
            st.switch_page(feed)

adaptive_layout([feed, share, profile, studio[0]] if signed_in else [feed, sign_in, register])
st.session_state[CURRENT_PAGE] = page.url_path
page.run()
