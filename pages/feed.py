"""Home: everyone's videos, newest first, with search, a category filter and numbered pages.

The filters live in the URL (`?category=music&q=piano`): category links from video pages land
here filtered, and the browser's back button and reloads keep them.
"""

from __future__ import annotations

import streamlit as st

from core.videos.feed import MAX_SEARCH_CHARS, SearchFailed, feed_page
from core.videos.sharing import list_categories
from pages.ui.components import SHARE, md, show_flash, video_grid
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


show_flash()
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
page_key = f"feed_page:{category}:{query}"  # a new search or filter starts at page 1
try:
    result = feed_page(page=st.session_state.get(page_key, 1), category=category, query=query or "")
except SearchFailed as exc:
    st.warning(str(exc))
    st.stop()

if result.total == 0:
    if query or category:
        st.info("No videos match. Try other words or another category.")
    else:
        st.info("No videos yet. Be the first to share one!")
        if current_user() is not None:
            st.page_link(SHARE, label="Share a video", icon=":material/add_link:")
else:
    count = f"{result.total:,} video" + ("" if result.total == 1 else "s")
    matching = f" matching “{md(query)}”" if query else ""
    within = f" in {md(result.category.name)}" if result.category else ""
    st.caption(count + matching + within)
    video_grid(result.items)
    if result.num_pages > 1:
        st.pagination(result.num_pages, key=page_key)
