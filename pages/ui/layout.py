"""Page layout that adapts to the screen: the card grid's widths, and a compact top bar of links on phones.

Streamlit hides the sidebar (the menu) behind a small arrow on narrow screens and stacks columns
one per row, so a phone saw one long column of large cards and no menu. The CSS here lays the
cards out three across on wide screens and two across below 640 px, with tighter padding, and
shows `phone_bar`'s links only there. The CSS is constant text (no user input reaches it).
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

PHONE_MAX_PX = 640

LAYOUT_CSS = f"""
<style>
.st-key-video_grid > div {{ flex: 0 0 calc((100% - 2rem) / 3); min-width: 0; }}
.st-key-phone_bar {{ display: none; }}
@media (max-width: {PHONE_MAX_PX}px) {{
  .st-key-video_grid {{ gap: 0.5rem; }}
  .st-key-video_grid > div {{ flex: 0 0 calc((100% - 0.5rem) / 2); }}
  .st-key-video_grid [data-testid="stVerticalBlock"] {{ gap: 0.3rem; }}
  .st-key-video_grid div[class*="st-key-video_card_"] {{ padding: 0.4rem; }}
  .st-key-video_grid [data-testid="stPageLink"] p {{ font-size: 0.85rem; line-height: 1.2; }}
  .st-key-video_grid [data-testid="stCaptionContainer"] p {{ font-size: 0.7rem; }}
  .st-key-phone_bar {{ display: flex; }}
  .st-key-phone_bar [data-testid="stPageLink"] p {{ font-size: 0.85rem; }}
}}
</style>
"""


def adaptive_layout(pages: Sequence[st.Page]) -> None:
    """Once per run, before the page: the layout CSS and, shown on phones only, a bar of links to `pages`."""
    st.html(LAYOUT_CSS)
    with st.container(horizontal=True, gap="small", key="phone_bar"):
        for page in pages:
            st.page_link(page)
