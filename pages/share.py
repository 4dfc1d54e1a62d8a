"""Share a video: a link, a comment, categories; the site is asked for title, thumbnail and length.

What was typed stays, exactly as typed, after a refused share (to be corrected); a successful share
empties the form, so the next video does not inherit the last one's title and categories.
"""

from __future__ import annotations

import streamlit as st

from core.videos.sharing import MAX_CATEGORIES, MAX_COMMENT, ProbeFailed, VideoError, list_categories, share_video
from pages.ui.components import WATCH, flash, md
from pages.ui.session import require_member

FIELDS = ("share_url", "share_comment", "share_categories", "share_title")  # widget keys, cleared after a share

user = require_member()  # before anything else: a direct run of this file shows visitors nothing

names = {c.slug: c.name for c in list_categories()}

st.title("Share a video")
with st.form("share"):
    url = st.text_input("Video link", placeholder="https://www.youtube.com/watch?v=…", key="share_url")
    comment = st.text_area(
        "Comment",
        placeholder="Why is it worth watching?",
        help=f"Up to {MAX_COMMENT:,} characters, shown as plain text.",
        key="share_comment",
    )
    categories = st.multiselect(
        "Categories",
        options=list(names),
        format_func=names.__getitem__,
        max_selections=MAX_CATEGORIES,
        placeholder="Type to search categories",
        key="share_categories",
    )
    title = st.text_input(
        "Title (optional)",
        help="Leave empty to use the video's own title. Needed when the site cannot tell us about the video.",
        key="share_title",
    )
    submitted = st.form_submit_button("Share", type="primary", icon=":material/add_link:")

if submitted:
    try:
        with st.spinner("Asking the site about this video…"):
            shared = share_video(user.id, url, comment, categories, title)
    except ProbeFailed as exc:  # messages may quote what a site or a stored title says: shown literally
        st.warning(md(str(exc)), icon=":material/cloud_off:")
    except VideoError as exc:
        st.error(md(str(exc)))
    else:
        for key in FIELDS:
            st.session_state.pop(key, None)
        flash(f"Shared “{md(shared.title)}”.")
        st.switch_page(WATCH, query_params={"v": str(shared.id)})
