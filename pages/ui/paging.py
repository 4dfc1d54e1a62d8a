"""Numbered pages kept in the URL (`?page=N`), so the browser's Back button, reloads and shared links keep them.

The URL is the source of truth, as for the feed's filters: the widget is set from it on every run
and its callback writes the choice back. (Streamlit's own `bind="query-params"` does the writing
in the browser, so a run can start with a page the server has not heard of yet.)
"""

from __future__ import annotations

import streamlit as st

PAGE = "page"  # the URL parameter
_WIDGET = "pager"


def requested_page() -> int:
    """The page the URL asks for (1 when absent or unreadable); the page itself clamps it to the pages there are."""
    raw = st.query_params.get(PAGE, "1")
    return int(raw) if raw.isdigit() and int(raw) > 0 else 1


def back_to_first_page() -> None:
    """For filter callbacks: a new search or category starts at page 1 (the bare address)."""
    st.query_params.pop(PAGE, None)


def _to_url() -> None:
    page = st.session_state.get(_WIDGET) or 1
    if page > 1:
        st.query_params[PAGE] = str(page)
    else:
        st.query_params.pop(PAGE, None)


def pager(num_pages: int, page: int) -> None:
    """The page buttons showing `page` (the one shown); nothing when everything fits on one page."""
    if num_pages > 1:
        st.session_state[_WIDGET] = page
        st.pagination(num_pages, key=_WIDGET, on_change=_to_url)
