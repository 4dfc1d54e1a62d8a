"""Studio › People: everyone named in the library with a cover face and counts; rename, notes, their faces
("not this person"), merge several into one, delete (after a confirmation)."""

from __future__ import annotations

import streamlit as st

from core.studio import people, thumbs
from core.studio.errors import StudioError
from core.studio.people import PersonInfo
from pages.ui.components import flash, md, show_flash
from pages.ui.session import require_member
from pages.ui.studio_gallery import clear_picks, face_gallery
from pages.ui.studio_pager import page_of
from pages.ui.studio_words import counted

user = require_member()  # before anything else: a direct run of this file shows visitors nothing

PEOPLE_PER_PAGE = 12
OPEN_KEY = "studio_open_person"


def _done(message: str) -> None:
    flash(message)
    st.rerun()


def _card(person: PersonInfo) -> None:
    with st.container(border=True):
        if person.cover_face_id is not None:
            st.image(thumbs.face_thumbnail(user.id, person.cover_face_id, side=160), width="stretch")
        st.markdown(f"**{md(person.name)}**")
        st.caption(f"{counted(person.face_count, 'face')} in {counted(person.photo_count, 'photo')}")
        st.button(
            "Open",
            key=f"person-open-{person.id}",
            icon=":material/open_in_full:",
            on_click=st.session_state.__setitem__,
            args=(OPEN_KEY, person.id),
        )


def _edit(person: PersonInfo) -> None:
    with st.form(f"person-{person.id}"):
        name = st.text_input("Name", value=person.name, max_chars=120)
        notes = st.text_area("Notes", value=person.notes)
        if st.form_submit_button("Save", icon=":material/save:"):
            try:
                people.rename_person(user.id, person.id, name.strip(), notes=notes)
            except StudioError as exc:
                st.error(str(exc))
            else:
                _done(f"Saved “{name.strip()}”.")


def _faces(person: PersonInfo) -> None:
    gallery = f"person-{person.id}-faces"
    picked = face_gallery(user.id, people.person_faces(user.id, person.id), gallery, selectable=True, caption=None)
    if st.button("Not this person", key=f"{gallery}-reject", disabled=not picked, icon=":material/person_remove:"):
        try:
            for face_id in picked:
                people.reject_face(user.id, face_id)
        except StudioError as exc:
            st.error(str(exc))
        else:
            clear_picks(gallery, picked)
            _done(f"{counted(len(picked), 'face')} removed from {person.name}; never suggested for them again.")


def _delete(person: PersonInfo) -> None:
    with st.expander("Delete this person", icon=":material/delete:"):
        st.caption("Their faces and the photos' records of them are deleted too; the photos stay.")
        sure = st.checkbox(f"Yes, delete {md(person.name)} and their faces", key=f"person-{person.id}-sure")
        if st.button("Delete person", key=f"person-{person.id}-delete", disabled=not sure, type="primary"):
            try:
                people.delete_person(user.id, person.id)
            except StudioError as exc:
                st.error(str(exc))
            else:
                st.session_state.pop(OPEN_KEY, None)
                _done(f"{person.name} is deleted.")


def _opened(persons: list[PersonInfo]) -> None:
    person = next((p for p in persons if p.id == st.session_state.get(OPEN_KEY)), None)
    if person is None:
        return
    with st.container(border=True):
        head, close = st.columns([5, 1], vertical_alignment="center")
        head.subheader(md(person.name), anchor=False)
        close.button(
            "Close", key="person-close", icon=":material/close:", on_click=st.session_state.pop, args=(OPEN_KEY, None)
        )
        _edit(person)
        _faces(person)
        _delete(person)


def _merge(persons: list[PersonInfo]) -> None:
    names = {person.id: person.name for person in persons}
    with st.expander("Merge people", icon=":material/merge:"), st.form("merge-people"):
        sources = st.multiselect("Merge these people", list(names), format_func=names.__getitem__)
        target = st.selectbox("into", list(names), format_func=names.__getitem__)
        if st.form_submit_button("Merge", icon=":material/merge:"):
            try:
                merged = people.merge_people(user.id, [s for s in sources if s != target], target)
            except StudioError as exc:
                st.error(str(exc))
            else:
                _done(f"Merged into {merged.name}: {counted(merged.face_count, 'face')}.")


st.title("People", anchor=False)
show_flash()
persons = people.list_people(user.id)
if not persons:
    st.caption("Nobody is named yet: name a group on the Clusters page.")
else:
    _opened(persons)
    st.caption(counted(len(persons), "person", "people"))
    shown = page_of(persons, "people-page", PEOPLE_PER_PAGE)
    for start in range(0, len(shown), 6):
        for column, person in zip(st.columns(6), shown[start : start + 6], strict=False):
            with column:
                _card(person)
    if len(persons) > 1:
        _merge(persons)
