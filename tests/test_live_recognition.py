"""Live recognition: labels stay on their faces (hysteresis, no swaps when faces cross), who is in view since
when, and the real path: named faces and Unknown from the real engine, freeze, add a newcomer, renames seen.

The tracking tests feed `LiveTracks` synthetic embeddings (people far apart, a little noise per frame, as
real frames of one face are); the rest run the real engine, database and importer on the test photos.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch

from core.config import get_settings
from core.studio import library, people
from core.studio.errors import BadInput
from core.studio.live_recognition import LiveRecognition
from core.studio.live_tracks import (
    CONFIRM_FRAMES,
    HOLD_MISSES,
    MAX_MISSES,
    PRESENCE_GRACE_S,
    STALE_S,
    Label,
    LiveTracks,
    Seen,
)
from core.studio.owners import resolve_owner
from core.studio.recognise import Recogniser
from tests.support.live_scenes import BIDEN, KIT, KNOWN, OBAMA, name_people, scene

SAME_FACE = 0.6
_rng = np.random.default_rng(7)
FACES = {name: v / np.linalg.norm(v) for name, v in (("ann", _rng.normal(size=128)), ("bob", _rng.normal(size=128)))}
IDS = {"ann": 1, "bob": 2, None: None}


def _seen(who: str, x: float, said: str | None = "same", y: float = 100.0) -> Seen:
    """Face `who` at x (100 px wide); the gallery says `said` ("same": right, None: Unknown, else that name)."""
    vector = FACES[who] + _rng.normal(scale=0.01, size=128)
    answer = who if said == "same" else said
    return Seen((x, y, x + 100, y + 100), vector, IDS[answer], answer, 90.0 if answer else 40.0)


def _by_x(labels: list[Label]) -> list[str | None]:
    return [label.name for label in sorted(labels, key=lambda label: label.box[0])]


def test_one_odd_frame_never_changes_a_label_but_a_steady_answer_does() -> None:
    tracks = LiveTracks(SAME_FACE)
    assert _by_x(tracks.update([_seen("ann", 100)], 0.0)) == ["ann"]
    for frame, said in enumerate([None, "same", "bob", "same", None, None, "same"]):  # blurs, near ties: never 3 alike
        assert _by_x(tracks.update([_seen("ann", 100 + frame, said)], 0.1 * (frame + 1))) == ["ann"]
    at = 1.0
    for _ in range(CONFIRM_FRAMES - 1):  # e.g. Ann was deleted elsewhere: the gallery says Unknown from now on
        at += 0.1
        assert _by_x(tracks.update([_seen("ann", 106, said=None)], at)) == ["ann"]
    assert _by_x(tracks.update([_seen("ann", 106, said=None)], at + 0.1)) == [None]


def test_two_faces_that_cross_keep_their_own_labels() -> None:
    """Ann walks right and Bob left, through each other; at the crossing the gallery is confused for two frames."""
    tracks = LiveTracks(SAME_FACE)
    owner = {label.track_id: label.name for label in tracks.update([_seen("ann", 100), _seen("bob", 580)], 0.0)}
    for frame in range(1, 13):
        ann_x, bob_x = 100 + 40 * frame, 580 - 40 * frame  # the same place at frame 6
        confused = frame in (5, 6)
        faces = [_seen("ann", ann_x, "bob" if confused else "same"), _seen("bob", bob_x, "ann" if confused else "same")]
        labels = tracks.update(faces[::-1] if frame % 2 else faces, 0.15 * frame)  # detector order varies
        assert sorted(label.track_id for label in labels) == sorted(owner), f"frame {frame}: a track was lost"
        for label in labels:
            who = owner[label.track_id]
            assert label.box[0] == (ann_x if who == "ann" else bob_x), f"frame {frame}: the tracks swapped faces"
            assert label.name == who, f"frame {frame}: {who}'s face is labelled {label.name}"


def test_two_people_side_by_side_are_never_merged_into_one_track() -> None:
    tracks = LiveTracks(SAME_FACE)
    for frame in range(5):  # touching boxes, jittering
        labels = tracks.update([_seen("ann", 100 + frame % 2 * 8), _seen("bob", 195 - frame % 2 * 8)], 0.1 * frame)
        assert _by_x(labels) == ["ann", "bob"] and len({label.track_id for label in labels}) == 2


def test_a_face_missed_for_a_frame_keeps_its_box_and_label_then_goes() -> None:
    tracks = LiveTracks(SAME_FACE)
    tracks.update([_seen("ann", 100), _seen("bob", 400)], 0.0)
    held = tracks.update([_seen("bob", 402)], 0.1)  # the detector missed Ann once
    assert _by_x(held) == ["ann", "bob"] and [label.seen_now for label in sorted(held, key=lambda x: x.box[0])] == [
        False, True]
    back = tracks.update([_seen("ann", 104), _seen("bob", 404)], 0.2)
    assert _by_x(back) == ["ann", "bob"] and len({label.track_id for label in back}) == 2
    ann_track = min(back, key=lambda label: label.box[0]).track_id
    for frame in range(1, MAX_MISSES + 1):  # Ann has left
        labels = tracks.update([_seen("bob", 404)], 0.2 + 0.1 * frame)
        assert _by_x(labels) == (["ann", "bob"] if frame <= HOLD_MISSES else ["bob"])
    again = tracks.update([_seen("ann", 104), _seen("bob", 404)], 0.9)
    assert min(again, key=lambda label: label.box[0]).track_id != ann_track  # her old track had ended


def test_a_pause_in_the_analysis_loses_nobody() -> None:
    """The page adding a face (or a busy machine) may hold the analysis for seconds: no frame, no news."""
    tracks = LiveTracks(SAME_FACE)
    first = tracks.update([_seen("ann", 100), _seen("bob", 400, said=None)], 50.0)
    before = tracks.in_view(now=50.0)
    after_pause = tracks.update([_seen("ann", 110), _seen("bob", 410, said=None)], 54.0)
    assert {label.track_id for label in after_pause} == {label.track_id for label in first}
    assert tracks.in_view(now=54.0) == before


def test_who_is_in_view_and_since_when() -> None:
    tracks = LiveTracks(SAME_FACE)
    start = 1000.0
    tracks.update([_seen("ann", 100)], start)
    tracks.update([_seen("ann", 100), _seen("bob", 400, said=None)], start + 1.0)  # an unknown face comes
    rows = tracks.in_view(now=start + 1.0)
    assert [(row.name, row.known) for row in rows] == [("ann", True), (None, False)]  # named first
    assert round((rows[1].since - rows[0].since).total_seconds(), 1) == 1.0
    ann_since = rows[0].since
    # Ann steps out for less than the grace period and comes back as a new track: still "since" the same moment
    tracks.update([_seen("bob", 400, said=None)], start + 1.1)
    tracks.update([_seen("ann", 500)], start + 1.1 + PRESENCE_GRACE_S - 0.5)
    again = tracks.in_view(now=start + 1.1 + PRESENCE_GRACE_S - 0.5)
    assert [row.name for row in again] == ["ann"]
    assert abs((again[0].since - ann_since).total_seconds()) < 0.05
    # away for longer (her track ended): a new "since"
    later = start + 30.0
    tracks.update([_seen("ann", 500)], later)
    rows = tracks.in_view(now=later)
    assert round((rows[0].since - ann_since).total_seconds()) == 30
    assert tracks.in_view(now=later + STALE_S + 1) == []  # no frames at all (the camera stopped): nobody is listed


# --- the real path: engine, database, importer -------------------------------------------------------------


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    """As the live worker runs the engine (core/faces/live_frames.py): one thread is faster on shared cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@dataclass(frozen=True)
class Known:
    owner_id: int
    ids: dict[str, int]


@pytest.fixture(scope="module")
def known_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A library where Barack Obama and Joe Biden are named (one imported photo each); Kit is nobody yet."""
    data = tmp_path_factory.mktemp("live-template") / "data"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("WEBTUBE_DATA_DIR", str(data))
        env.delenv("DATABASE_URL", raising=False)
        get_settings.cache_clear()
        name_people(resolve_owner(None), KNOWN, data.parent / "photos")
    get_settings.cache_clear()
    return data


@pytest.fixture
def known(known_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Known]:
    data = tmp_path / "data"
    shutil.copytree(known_template, data, ignore=shutil.ignore_patterns("*.lock"))
    monkeypatch.setenv("WEBTUBE_DATA_DIR", str(data))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    owner_id = resolve_owner(None)
    yield Known(owner_id, {p.name: p.id for p in people.list_people(owner_id)})
    get_settings.cache_clear()


def _frames(live: LiveRecognition, rgb: np.ndarray, count: int) -> list[Label]:
    """`count` frames of `rgb` as the worker hands them over (arrival times on the monotonic clock)."""
    labels: tuple[Label, ...] = ()
    for _ in range(count):
        labels = live.process(rgb.copy(), time.monotonic())
    return list(labels)


def _photo_count(owner_id: int) -> int:
    return library.list_photos(owner_id, page_size=1).total


def test_every_face_is_named_or_unknown_and_a_newcomer_is_added_from_a_frozen_frame(known: Known) -> None:
    live = LiveRecognition(known.owner_id)
    group = scene((OBAMA, BIDEN, KIT))
    labels = _frames(live, group, 2)
    assert _by_x(labels) == ["Barack Obama", "Joe Biden", None]
    assert [(row.name, row.known) for row in live.in_view()][-1] == (None, False)
    assert {row.name for row in live.in_view()} == {"Barack Obama", "Joe Biden", None}
    photos = _photo_count(known.owner_id)

    frozen = live.freeze()
    assert len(frozen.faces) == 3 and frozen.jpeg[:2] == b"\xff\xd8" and frozen.preview_jpeg != frozen.jpeg
    kit = 1 + next(i for i, face in enumerate(frozen.faces) if not face.known)
    assert _photo_count(known.owner_id) == photos  # freezing writes nothing
    person = live.add_face(kit, name="Kit Harington")
    assert person.name == "Kit Harington" and person.face_count == 1
    assert live.frozen is None and _photo_count(known.owner_id) == photos + 1  # the frame is now a library photo

    labels = _frames(live, group, CONFIRM_FRAMES)  # no restart: the same live view, next frames
    assert _by_x(labels) == ["Barack Obama", "Joe Biden", "Kit Harington"]
    assert len({label.track_id for label in labels}) == 3


def test_another_sample_of_someone_named_and_a_discarded_frame_leaves_nothing(known: Known) -> None:
    live = LiveRecognition(known.owner_id)
    _frames(live, scene((BIDEN,)), 1)
    live.freeze()
    live.discard()
    assert live.frozen is None
    with pytest.raises(BadInput, match="Freeze a frame first"):
        live.add_face(1, name="Nobody")
    photos = _photo_count(known.owner_id)
    assert photos == 2

    live.freeze()
    with pytest.raises(BadInput, match="from 1 to 1"):
        live.add_face(2, person_id=known.ids["Joe Biden"])
    person = live.add_face(1, person_id=known.ids["Joe Biden"])
    assert person.name == "Joe Biden" and person.face_count == 2 and _photo_count(known.owner_id) == photos + 1


def test_nothing_to_freeze_is_one_sentence(known: Known) -> None:
    live = LiveRecognition(known.owner_id)
    with pytest.raises(BadInput, match="No frame has been analysed yet"):
        live.freeze()
    _frames(live, np.full((480, 640, 3), 96, np.uint8), 1)
    with pytest.raises(BadInput, match="No face is in view"):
        live.freeze()


def test_a_rename_elsewhere_reaches_the_running_view_and_a_deletion_turns_the_face_unknown(known: Known) -> None:
    live = LiveRecognition(known.owner_id, recogniser=Recogniser(known.owner_id, max_age_s=0.0))
    rgb = scene((OBAMA,))
    assert _by_x(_frames(live, rgb, 1)) == ["Barack Obama"]
    people.rename_person(known.owner_id, known.ids["Barack Obama"], "Barack H. Obama")
    assert _by_x(_frames(live, rgb, 1)) == ["Barack H. Obama"]  # the very next frame
    people.delete_person(known.owner_id, known.ids["Barack Obama"])
    assert _by_x(_frames(live, rgb, CONFIRM_FRAMES)) == [None]
