"""An author's page (`?id=USER`): the videos one person shared, newest first, in numbered pages (`&page=N`).

Every byline links here. Public, like the feed: what people share is public on WebTube.
"""

from __future__ import annotations

import streamlit as st

from core.videos.feed import AuthorNotFound, author, feed_page
from pages.ui.components import FEED, md, query_id, video_grid
from pages.ui.paging import pager, requested_page

author_id = query_id("id")
try:
    if author_id is None:
        raise AuthorNotFound("This link does not point to a person.")
    person = author(author_id)
except AuthorNotFound as exc:
    st.error(str(exc))
    st.page_link(FEED, label="Back to all videos", icon=":material/home:")
    st.stop()

st.title(md(person.name), anchor=False)
if person.videos == 0:
    st.info(f"{md(person.name)} has not shared any videos yet.")
    st.stop()
result = feed_page(page=requested_page(), author_id=person.id)
st.caption(f"{person.videos:,} video" + ("" if person.videos == 1 else "s") + f" shared by {md(person.name)}")
video_grid(result.items)
pager(result.num_pages, result.page)
