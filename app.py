"""WebTube's entry point: page setup, navigation, the sign-in gate and the sidebar.

Run with `streamlit run app.py`. The session (the cookie's token) and its account are re-read from
the database on every run, so a renamed or deleted account, or a sign-out in another tab, shows at once.
"""

from __future__ import annotations

import threading
from pathlib import Path

import streamlit as st

from core.accounts.profiles import avatar_file
from core.studio.interrupted import unfinished_jobs_exist
from pages.ui.components import md
from pages.ui.layout import adaptive_layout
from pages.ui.session import sign_out, signed_in_user, sync_session_cookie

# A local icon file: a :material/...: page icon makes every browser fetch it from fonts.gstatic.com.
st.set_page_config(page_title="WebTube", page_icon=str(Path(__file__).parent / "static" / "webtube.png"), layout="wide")


@st.cache_resource(show_spinner=False)
def _resume_interrupted_imports() -> threading.Thread:
    """Once per server process: studio imports that a restart cut short carry on, nothing lost or doubled.

    In a thread, and imported there only when a job is unfinished, because the import module brings
    in the face engine (seconds of PyTorch loading) that must not hold up the first page anyone opens.
    """

    def resume() -> None:
        if not unfinished_jobs_exist():  # the usual case: no reason to load the engine now
            return
        from core.studio.jobs import resume_interrupted

        resume_interrupted()

    thread = threading.Thread(target=resume, name="studio-resume", daemon=True)
    thread.start()
    return thread


_resume_interrupted_imports()

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

studio = [
    st.Page(f"pages/studio_{name}.py", title=title, icon=icon, url_path=f"studio_{name}", visibility=_visible(True))
    for name, title, icon in (
        ("people", "People", ":material/groups:"),
        ("library", "Library", ":material/photo_library:"),
        ("search", "Search", ":material/image_search:"),
        ("recognise", "Recognise", ":material/person_search:"),
        ("clusters", "Clusters", ":material/workspaces:"),
        ("export", "Export", ":material/download:"),
    )
]

site = [feed, watch, author, share, profile, sign_in, register, system]
# Visitors get no Studio header: a section of hidden pages would still draw its title.
page = st.navigation({"": site, "Studio": studio} if signed_in else [*site, *studio])

members_only = {member.url_path: f"pages/{member.url_path}.py" for member in (share, profile, system)}
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
page.run()
