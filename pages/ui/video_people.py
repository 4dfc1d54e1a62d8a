""" "Videos with this person" for a studio person's view: every analysed video (an upload or a site video) in which
they appear, with when, and links to the analysis and to the site's video page."""

from __future__ import annotations

import streamlit as st

from core.studio.errors import StudioError
from core.video_analysis import results
from core.video_analysis.records import PersonAppearance
from pages.ui import video_state
from pages.ui.components import WATCH, md, when
from pages.ui.video_results import title_of
from pages.ui.video_timeline import spans

THUMB_PX = 96


def _appearance(seen: PersonAppearance) -> None:
    with st.container(border=True, key=f"video-with-{seen.analysis_id}"):
        picture, text = st.columns([1, 5], vertical_alignment="center")
        picture.image(str(seen.thumbnail), width=THUMB_PX)
        text.markdown(f"**{md(title_of(seen.video_title, seen.source_name))}**")
        text.caption(f"{spans(seen.ranges)} · {seen.seconds:.1f} s on screen · analysed {when(seen.created_at)}")
        with text.container(horizontal=True, gap="small"):
            st.page_link(
                video_state.VIDEOS_PAGE,
                label="Open the analysis",
                icon=":material/movie:",
                query_params=video_state.link_params(seen.analysis_id),
            )
            if seen.video_id is not None:
                st.page_link(
                    WATCH,
                    label="Watch on the site",
                    icon=":material/smart_display:",
                    query_params={"v": str(seen.video_id)},
                )


def videos_with_person(user_id: int, person_id: int) -> None:
    """Draw "Videos with this person" for `user_id`'s studio person `person_id` (nothing when they are not theirs)."""
    try:
        seen = results.videos_with_person(user_id, person_id)
    except StudioError:
        return
    st.markdown("**Videos with this person**")
    if not seen:
        st.caption("Not seen in any analysed video yet: analyse one in Studio › Videos.")
        return
    for appearance in seen:
        _appearance(appearance)
