"""The video page (`?v=ID`): player, title, author, categories, the comment as text, download, the people in it
(the signed-in member's face analysis of it), similar videos."""

from __future__ import annotations

import streamlit as st

from core.videos.records import VideoDetail
from core.videos.sharing import VideoNotFound, get_video
from core.videos.similar import similar_videos
from core.videos.thumbnails import cached_thumbnail
from core.videos.urls import safe_for_viewers
from pages.ui.components import FEED, author_byline, category_links, md, query_id, show_flash, thumbnail, video_card
from pages.ui.video_details import details_notice
from pages.ui.video_download import download_panel
from pages.ui.video_site import people_in_video


def _player(detail: VideoDetail) -> None:
    player = detail.player
    file_url = safe_for_viewers(player.url) if player.kind == "file" else None
    if player.kind == "youtube":
        st.video(player.url, start_time=player.start_s)
    elif file_url is not None:
        st.video(file_url)
    else:
        thumbnail(detail.card, wait_s=2.0)
        st.caption(f"This site's videos cannot be played here; watch it on {md(detail.card.site)}.")


show_flash()
video_id = query_id("v")
try:
    if video_id is None:
        raise VideoNotFound("This link does not point to a video.")
    detail = get_video(video_id)
except VideoNotFound as exc:
    st.error(str(exc))
    st.page_link(FEED, label="Back to all videos", icon=":material/home:")
    st.stop()

cached_thumbnail(detail.card.thumbnail_url)  # fetch it now (in the background) for the cards that will show it
main, side = st.columns([2, 1], gap="large")
with main:
    _player(detail)
    st.header(md(detail.card.title), anchor=False)
    by_someone_else = detail.uploader and detail.uploader != detail.card.site  # never "127.0.0.1 (by 127.0.0.1)"
    source = md(detail.card.site) + (f" (by {md(detail.uploader)})" if by_someone_else else "")
    author_byline(detail.card, source)
    details_notice(detail.card.id)
    category_links(detail.card.categories)
    if detail.comment:
        st.text(detail.comment)
    st.link_button("Open the original", detail.original_url, icon=":material/open_in_new:")
    download_panel(detail)
    people_in_video(detail.card.id)
with side:
    st.subheader("Similar videos", anchor=False)
    for card in similar_videos(detail.card.id):
        video_card(card)
