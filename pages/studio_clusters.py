"""Studio › Clusters: the unnamed faces grouped into likely people; name a group (a new person or one you
have), merge groups, take a wrong face out ("not this person"), split; and suggestions to confirm."""

from __future__ import annotations

import streamlit as st

from core.studio import clustering, people, thumbs
from core.studio.errors import StudioError
from core.studio.records import FaceInfo
from pages.ui.components import flash, md, show_flash
from pages.ui.session import require_member
from pages.ui.studio_gallery import clear_picks, face_gallery
from pages.ui.studio_model_notice import stale_model_notice
from pages.ui.studio_pager import page_of
from pages.ui.studio_words import counted

user = require_member()  # before anything else: a direct run of this file shows visitors nothing

CLUSTERS_PER_PAGE = 6


def _done(message: str, gallery: str = "", face_ids: list[int] | None = None) -> None:
    clear_picks(gallery, face_ids or [])
    flash(message)
    st.rerun()


def _name_form(cluster_id: int, persons: dict[int, str]) -> None:
    with st.form(f"name-{cluster_id}", border=False):
        name_column, join_column, go_column = st.columns([2, 2, 1], vertical_alignment="bottom")
        name = name_column.text_input("Name this person", key=f"name-{cluster_id}-text", max_chars=120)
        join = join_column.selectbox(
            "or it is",
            [None, *persons],
            format_func=lambda p: "someone new" if p is None else persons[p],
            key=f"name-{cluster_id}-join",
        )
        if go_column.form_submit_button("Name group", icon=":material/badge:"):
            try:
                person = people.name_cluster(user.id, cluster_id, name=None if join else name.strip(), person_id=join)
            except StudioError as exc:
                st.error(str(exc))
            else:
                _done(f"The group is now “{person.name}”.")


def _cluster(cluster_id: int, faces: list[FaceInfo], persons: dict[int, str]) -> None:
    gallery = f"cluster-{cluster_id}"
    with st.container(border=True):
        st.markdown(f"**Group {cluster_id}** · {counted(len(faces), 'face')}")
        picked = face_gallery(user.id, faces, gallery, columns=8, page_size=16, selectable=True, caption=None)
        _name_form(cluster_id, persons)
        with st.container(horizontal=True):
            if st.button(
                "Not this person",
                key=f"{gallery}-reject",
                disabled=not picked,
                icon=":material/person_remove:",
                help="Take the ticked faces out of this group (they stay unnamed).",
            ):
                try:
                    for face_id in picked:
                        people.reject_face(user.id, face_id)
                except StudioError as exc:
                    st.error(str(exc))
                else:
                    _done(f"{counted(len(picked), 'face')} taken out of the group.", gallery, picked)
            if st.button(
                "Split into a new group", key=f"{gallery}-split", disabled=not picked, icon=":material/call_split:"
            ):
                try:
                    new_id = people.split_cluster(user.id, cluster_id, picked)
                except StudioError as exc:
                    st.error(str(exc))
                else:
                    _done(f"The ticked faces are now group {new_id}.", gallery, picked)


def _merge(cluster_ids: list[int]) -> None:
    with st.form("merge-clusters"):
        chosen = st.multiselect("Merge these groups", cluster_ids, format_func=lambda c: f"Group {c}")
        if st.form_submit_button("Merge groups", icon=":material/merge:"):
            try:
                merged = people.merge_clusters(user.id, chosen)
            except StudioError as exc:
                st.error(str(exc))
            else:
                _done(f"Merged into group {merged}.")


def _answer(face: FaceInfo, confirmed: bool) -> None:
    """Yes: the face joins the suggested person. No: it is remembered as not them."""
    try:
        if confirmed:
            people.confirm_suggestion(user.id, face.id)
        else:
            people.reject_face(user.id, face.id)
    except StudioError as exc:
        st.error(str(exc))
    else:
        name = face.suggested_person_name or ""
        _done(f"Confirmed as {name}." if confirmed else f"Not {name}: never suggested for them again.")


def _suggestions() -> None:
    faces = people.suggestions(user.id)
    if not faces:
        return
    st.subheader(f"Suggestions to confirm ({len(faces)})", anchor=False)
    st.caption("Faces of new photos close to someone you named: is it them?")
    shown = page_of(faces, "suggestions-page", 12)
    for start in range(0, len(shown), 6):
        for column, face in zip(st.columns(6), shown[start : start + 6], strict=False):
            with column, st.container(border=True):
                st.image(thumbs.face_thumbnail(user.id, face.id, side=112), width="stretch")
                st.caption(f"{md(face.suggested_person_name or '')}?")
                yes, no = st.columns(2)
                if yes.button("Yes", key=f"confirm-{face.id}", icon=":material/check:"):
                    _answer(face, True)
                if no.button("No", key=f"refuse-{face.id}", icon=":material/close:"):
                    _answer(face, False)


st.title("Clusters", anchor=False)
show_flash()
stale_model_notice(user.id)
_suggestions()
if st.button(
    "Find groups",
    type="primary",
    icon=":material/workspaces:",
    help="Group the unnamed faces again; named people are left as they are.",
):
    with st.spinner("Grouping faces..."):
        run = clustering.cluster_faces(user.id)
    how = run.algorithm.replace("_", " ").capitalize()
    flash(f"{counted(len(run.clusters), 'group')} found ({how}, {run.seconds:.1f} s).")
    st.rerun()
run = clustering.current_clusters(user.id)
if not run.clusters:
    st.caption("No groups yet: import photos in the Library, then press Find groups.")
else:
    persons = {person.id: person.name for person in people.list_people(user.id)}
    st.caption(f"{counted(len(run.clusters), 'group')} · {counted(len(run.unclustered), 'face')} in no group")
    for cluster in page_of(run.clusters, "clusters-page", CLUSTERS_PER_PAGE):
        _cluster(cluster.cluster_id, cluster.faces, persons)
    if len(run.clusters) > 1:
        _merge([cluster.cluster_id for cluster in run.clusters])
if run.unclustered:
    with st.expander(f"Faces in no group ({len(run.unclustered)})"):
        st.caption("Poor-quality faces, and faces too far from every group.")
        face_gallery(user.id, run.unclustered, "unclustered", columns=10, page_size=40)
