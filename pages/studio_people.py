"""Studio › People, the admin view of everyone named in the library: search by name, sort, cards with a cover
face and counts. Open a person to rename them and keep notes, pick their cover, move faces to someone else
(or a new person), take faces away (unname them, or delete them from the library), merge them with others,
or delete them after a confirmation that says what goes. Every action is the core.studio function the
command line runs too (`python -m core studio people ...`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import streamlit as st

from core.studio import people, person_faces, thumbs
from core.studio.errors import StudioError
from core.studio.people import NAME_MAX, NOTES_MAX, PersonInfo
from core.studio.records import FaceInfo
from pages.ui.components import flash, md, show_flash, when
from pages.ui.session import require_member
from pages.ui.studio_gallery import clear_picks, face_gallery
from pages.ui.studio_pager import page_of
from pages.ui.studio_words import counted
from pages.ui.video_people import videos_with_person

user = require_member()  # before anything else: a direct run of this file shows visitors nothing

PEOPLE_PER_PAGE = 12
OPEN_KEY = "studio_open_person"
SORT_WORDS = {"name": "Name", "faces": "Most faces", "recent": "Most recent"}
NAMED_BY = {"hand": "named by you", "suggestion": "suggestion confirmed", "clustering": "from a group"}
NEW_PERSON = 0  # the "move to" choice that makes a new person (person ids start at 1)


def _done(message: str, gallery: str = "", picked: Sequence[int] = (), *keys: str) -> None:
    """Flash the sentence and rerun, with the used ticks (and any confirmation boxes in `keys`) cleared."""
    clear_picks(gallery, picked)
    for key in keys:
        st.session_state.pop(key, None)
    flash(message)
    st.rerun()


def _attempt(action: Callable[[], str], gallery: str = "", picked: Sequence[int] = (), *keys: str) -> None:
    """Run one core action: its sentence is shown after the rerun, or its error (one sentence) right here."""
    try:
        message = action()
    except StudioError as exc:
        st.error(str(exc))
    else:
        _done(message, gallery, picked, *keys)


def _card(person: PersonInfo) -> None:
    with st.container(border=True):
        if person.cover_face_id is not None:
            st.image(thumbs.face_thumbnail(user.id, person.cover_face_id, side=160), width="stretch")
        st.markdown(f"**{md(person.name)}**")
        st.caption(f"{counted(person.face_count, 'face')} in {counted(person.photo_count, 'photo')}")
        if person.last_seen is not None:
            st.caption(f"Latest photo {when(person.last_seen)}")
        st.button(
            "Open",
            key=f"person-open-{person.id}",
            icon=":material/open_in_full:",
            on_click=st.session_state.__setitem__,
            args=(OPEN_KEY, person.id),
        )


def _edit(person: PersonInfo) -> None:
    with st.form(f"person-{person.id}"):
        name = st.text_input("Name", value=person.name, max_chars=NAME_MAX)
        notes = st.text_area("Notes", value=person.notes, max_chars=NOTES_MAX)
        if st.form_submit_button("Save", icon=":material/save:"):
            _attempt(lambda: f"Saved “{people.rename_person(user.id, person.id, name, notes=notes).name}”.")


def _face_words(face: FaceInfo, person: PersonInfo) -> str:
    """How the face came to be theirs, and whether it is their cover."""
    how = NAMED_BY.get(face.named_by or "", "named")
    return f"Cover · {how}" if face.id == person.cover_face_id else how


def _faces(person: PersonInfo, everyone: list[PersonInfo]) -> None:
    """Their faces, ticked to act on: the cover, "not this person", move to someone else, delete."""
    gallery = f"person-{person.id}-faces"
    faces = people.person_faces(user.id, person.id)
    st.markdown(f"**Faces** · {counted(len(faces), 'face')}; tick faces, then choose what to do with them.")
    picked = face_gallery(user.id, faces, gallery, selectable=True,
                          caption=lambda face: _face_words(face, person))
    if not faces:
        return
    with st.container(horizontal=True):
        if st.button("Use as cover", key=f"{gallery}-cover", disabled=len(picked) != 1,
                     icon=":material/account_box:", help=f"Tick one face: it shows on {person.name}'s card."):
            _attempt(lambda: f"The ticked face is now {people.set_cover(user.id, person.id, picked[0]).name}'s cover.",
                     gallery, picked)
        if st.button("Not this person", key=f"{gallery}-reject", disabled=not picked, icon=":material/person_remove:",
                     help=f"The ticked faces stay in your library, unnamed, and are never suggested for "
                          f"{person.name} again."):
            _attempt(lambda: f"{counted(person_faces.unname_faces(user.id, person.id, picked), 'face')} removed from "
                             f"{person.name}; never suggested for them again.", gallery, picked)
    _move(person, everyone, gallery, picked)
    _delete_faces(person, gallery, picked)


def _move(person: PersonInfo, everyone: list[PersonInfo], gallery: str, picked: list[int]) -> None:
    others = {p.id: p.name for p in everyone if p.id != person.id}
    with st.container(horizontal=True, vertical_alignment="bottom"):
        to = st.selectbox("Move the ticked faces to", [*others, NEW_PERSON], key=f"{gallery}-to",
                          format_func=lambda choice: others.get(choice, "A new person …"))
        new_name = st.text_input("New person's name", key=f"{gallery}-new-name", max_chars=NAME_MAX,
                                 disabled=to != NEW_PERSON)
        if st.button("Move faces", key=f"{gallery}-move", disabled=not picked, icon=":material/move_up:",
                     help=f"They are remembered as not {person.name}."):
            def move() -> str:
                target = person_faces.move_faces(user.id, person.id, picked, None if to == NEW_PERSON else to,
                                                 new_name if to == NEW_PERSON else None)
                return f"{counted(len(picked), 'face')} moved from {person.name} to {target.name}."

            _attempt(move, gallery, picked, f"{gallery}-new-name")


def _delete_faces(person: PersonInfo, gallery: str, picked: list[int]) -> None:
    with st.expander("Delete faces from the library", icon=":material/delete_sweep:"):
        st.caption(
            "The ticked faces leave your library for good: their records, embeddings and thumbnails, so search "
            "no longer finds them. Their photos stay. Use it for a detection that is not a face, or a face you "
            "do not want kept; to correct a wrong name only, use “Not this person” or move them."
        )
        sure = st.checkbox("Yes, delete the ticked faces", key=f"{gallery}-delete-sure")
        if st.button("Delete faces", key=f"{gallery}-delete", disabled=not (picked and sure), type="primary",
                     icon=":material/delete_sweep:"):
            _attempt(lambda: f"{counted(person_faces.delete_faces(user.id, person.id, picked), 'face')} deleted "
                             "from your library; their photos stay.", gallery, picked, f"{gallery}-delete-sure")


def _merge(person: PersonInfo, everyone: list[PersonInfo]) -> None:
    names = {p.id: p.name for p in everyone}
    others = [p.id for p in everyone if p.id != person.id]
    if not others:
        return
    with st.expander("Merge with another person", icon=":material/merge:"), st.form(f"person-{person.id}-merge"):
        st.caption(f"{person.name} and the people chosen become one person, with every face and “not this person” "
                   "mark of them all, under the name chosen below; the other names and notes go.")
        sources = st.multiselect("Merge these people", others, format_func=names.__getitem__)
        target = st.selectbox("into", [person.id, *others], format_func=names.__getitem__)
        if st.form_submit_button("Merge", icon=":material/merge:"):
            def merge() -> str:
                merged = people.merge_people(user.id, sorted({person.id, *sources} - {target}), target)
                st.session_state[OPEN_KEY] = merged.id
                return f"Merged into {merged.name}: {counted(merged.face_count, 'face')}."

            _attempt(merge)


def _what_goes(person: PersonInfo) -> str:
    """The confirmation, exactly as delete_person does it (Markdown, the name escaped)."""
    name = md(person.name)
    if not person.face_count:
        return f"**{name}** has no faces: only the name and notes go."
    return (
        f"Deleting **{name}** deletes their {counted(person.face_count, 'face')} from your library for good: "
        "the face records, their embeddings and thumbnails, the search index's copies and every “not this person” "
        f"mark for them. The {counted(person.photo_count, 'photo')} they are in stay in your library (delete photos "
        f"on the Library page), and faces only suggested as {name} stay, unnamed. To keep the faces and forget only "
        "the name, tick them all and use “Not this person”."
    )


def _delete(person: PersonInfo) -> None:
    with st.expander("Delete this person", icon=":material/delete:"):
        st.markdown(_what_goes(person))
        sure = st.checkbox(f"Yes, delete {md(person.name)} and their {counted(person.face_count, 'face')}",
                           key=f"person-{person.id}-sure")
        if st.button("Delete person", key=f"person-{person.id}-delete", disabled=not sure, type="primary"):
            def delete() -> str:
                people.delete_person(user.id, person.id)
                st.session_state.pop(OPEN_KEY, None)
                return f"{person.name} is deleted."

            _attempt(delete)


def _person_detail(person: PersonInfo, everyone: list[PersonInfo]) -> None:
    """Everything about one opened person, section by section: a new section about them is one more call here."""
    _edit(person)
    _faces(person, everyone)
    videos_with_person(user.id, person.id)
    _merge(person, everyone)
    _delete(person)


def _opened(everyone: list[PersonInfo]) -> None:
    person = next((p for p in everyone if p.id == st.session_state.get(OPEN_KEY)), None)
    if person is None:
        st.session_state.pop(OPEN_KEY, None)  # deleted or merged away elsewhere, or never the owner's
        return
    with st.container(border=True):
        head, close = st.columns([5, 1], vertical_alignment="center")
        head.subheader(md(person.name), anchor=False)
        close.button(
            "Close", key="person-close", icon=":material/close:", on_click=st.session_state.pop, args=(OPEN_KEY, None)
        )
        _person_detail(person, everyone)


def _listing(everyone: list[PersonInfo]) -> None:
    """The cards, found by name and sorted as asked."""
    find, order = st.columns([3, 2], vertical_alignment="bottom")
    search = find.text_input("Search by name", key="people-search", placeholder="Part of a name")
    sort = order.segmented_control("Sort by", list(SORT_WORDS), format_func=SORT_WORDS.__getitem__, default="name",
                                   required=True, key="people-sort")
    shown = people.list_people(user.id, search, sort or "name")
    if search.strip():
        st.caption(f"{len(shown)} of {counted(len(everyone), 'person', 'people')} found for “{md(search.strip())}”.")
    else:
        st.caption(counted(len(everyone), "person", "people"))
    page = page_of(shown, "people-page", PEOPLE_PER_PAGE)
    for start in range(0, len(page), 6):
        for column, person in zip(st.columns(6), page[start : start + 6], strict=False):
            with column:
                _card(person)


st.title("People", anchor=False)
show_flash()
everyone = people.list_people(user.id)
if not everyone:
    st.caption("Nobody is named yet: name a group on the Clusters page.")
else:
    _opened(everyone)
    _listing(everyone)
