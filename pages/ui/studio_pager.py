"""Pagination for the studio's long lists: Previous and Next buttons around "Page 2 of 5".

Why hand-written: Streamlit has no pager widget, and a number input would make people type. The page
lives in `session_state[key]` and is clamped on every run, so a list that shrank (a merge, a delete)
never shows an empty page.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import ceil
from typing import TypeVar

import streamlit as st

T = TypeVar("T")


def _move(key: str, step: int) -> None:
    st.session_state[key] = int(st.session_state.get(key, 1)) + step


def pager(key: str, pages: int) -> int:
    """The 1-based page to show of `pages`; draws the buttons only when there is more than one page."""
    pages = max(pages, 1)
    current = min(max(int(st.session_state.get(key, 1)), 1), pages)
    st.session_state[key] = current
    if pages > 1:
        with st.container(horizontal=True, vertical_alignment="center", gap="small"):
            st.button(
                "Previous",
                key=f"{key}-previous",
                icon=":material/chevron_left:",
                disabled=current <= 1,
                on_click=_move,
                args=(key, -1),
            )
            st.caption(f"Page {current} of {pages}")
            st.button(
                "Next",
                key=f"{key}-next",
                icon=":material/chevron_right:",
                disabled=current >= pages,
                on_click=_move,
                args=(key, 1),
            )
    return current


def page_of(items: Sequence[T], key: str, page_size: int) -> Sequence[T]:
    """The slice of `items` on the current page, with the pager drawn above it."""
    page = pager(key, ceil(len(items) / page_size))
    return items[(page - 1) * page_size : page * page_size]
