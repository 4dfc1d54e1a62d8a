"""Home: everyone's videos, newest first, with search, a category filter and numbered pages.

The filters and the page number live in the URL (`?category=music&q=piano&page=2`): category links
from video pages land here filtered, and the browser's back button and reloads keep them. An empty
site greets its first visitor with what WebTube is and what to do first.
"""

from __future__ import annotations

import streamlit as st

from core.videos.details import retry_due
from core.videos.feed import MAX_SEARCH_CHARS, SearchFailed, feed_page
from core.videos.sharing import list_categories
from pages.ui.components import REGISTER, SHARE, SIGN_IN, md, show_flash, video_grid
from pages.ui.paging import back_to_first_page, pager, requested_page
from pages.ui.session import current_user

FILTERS = {"category": "feed_category", "q": "feed_query"}  # URL parameter -> widget key


def _to_url() -> None:
    """Widget callback: copy the filters into the URL, which the next run reads back."""
    for name, key in FILTERS.items():
        value = (st.session_state.get(key) or "").strip()
        if value:
            st.query_params[name] = value
        else:
            st.query_params.pop(name, None)
    back_to_first_page()


def _welcome() -> None:
    """The first visit to an empty site: what WebTube is, and the first thing to do."""
    st.subheader("Welcome to WebTube", anchor=False)
    st.markdown(
        "WebTube is a shared video shelf: members post links to videos they like (YouTube, video pages or "
        "video files) with a comment and categories, and everyone can watch, search and browse them. "
        "Members also get a private face studio for their own photos."
    )
    st.info("No videos yet. Be the first to share one!")
    if current_user() is not None:
        st.page_link(SHARE, label="Share your first video", icon=":material/add_link:")
        return
    with st.container(horizontal=True, gap="small"):
        st.page_link(REGISTER, label="Register to share the first video", icon=":material/person_add:")
        st.page_link(SIGN_IN, label="Sign in", icon=":material/login:")


show_flash()
retry_due()  # details that a share could not fetch (site offline) are asked for again now and then
st.title("WebTube")
names = {c.slug: c.name for c in list_categories()}
wanted = st.query_params.get("category") or None
if wanted is not None and wanted not in names:
    st.warning("That category does not exist; showing all videos.")
    wanted = None
st.session_state["feed_category"] = wanted
linked_query = st.query_params.get("q") or None
if linked_query and len(linked_query) > MAX_SEARCH_CHARS:
    st.info(f"Searches use the first {MAX_SEARCH_CHARS} characters; the rest of this one was left out.")
    linked_query = linked_query[:MAX_SEARCH_CHARS]
st.session_state["feed_query"] = linked_query

search_column, category_column = st.columns([2, 1], vertical_alignment="bottom")
query = search_column.text_input(
    "Search",
    value=None,
    key="feed_query",
    max_chars=MAX_SEARCH_CHARS,
    placeholder="Search titles and comments",
    on_change=_to_url,
)
category = category_column.selectbox(
    "Category",
    options=list(names),
    index=None,
    format_func=names.__getitem__,
    key="feed_category",
    placeholder="All categories",
    on_change=_to_url,
)
try:
    result = feed_page(page=requested_page(), category=category, query=query or "")
except SearchFailed as exc:
    st.warning(str(exc))
    st.stop()

if result.total == 0:
    if query or category:
        st.info("No videos match. Try other words or another category.")
    else:
        _welcome()
else:
    count = f"{result.total:,} video" + ("" if result.total == 1 else "s")
    matching = f" matching “{md(query)}”" if query else ""
    within = f" in {md(result.category.name)}" if result.category else ""
    st.caption(count + matching + within)
    video_grid(result.items)
    pager(result.num_pages, result.page)
