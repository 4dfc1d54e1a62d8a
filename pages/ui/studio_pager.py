"""Pagination for the studio's long lists, through Streamlit's own `st.pagination`.

The page lives in `session_state[key]` and is clamped before the widget is drawn, so a list that
shrank (a merge, a delete) never asks for a page that no longer exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import ceil
from typing import TypeVar

import streamlit as st

T = TypeVar("T")


def pager(key: str, pages: int) -> int:
    """The 1-based page to show of `pages`; the widget is drawn only when there is more than one page."""
    pages = max(pages, 1)
    if pages == 1:
        st.session_state.pop(key, None)
        return 1
    if int(st.session_state.get(key, 1)) > pages:
        st.session_state[key] = pages
    return int(st.pagination(pages, key=key))


def page_of(items: Sequence[T], key: str, page_size: int) -> Sequence[T]:
    """The slice of `items` on the current page, with the pager drawn above it."""
    page = pager(key, ceil(len(items) / page_size))
    return items[(page - 1) * page_size : page * page_size]
