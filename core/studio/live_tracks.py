"""Following several faces across the analysed frames of a live view, so labels stay on their faces.

Recognition runs on the newest frame only (every 70 to 200 ms on two cores), so between two
analysed frames a face may have moved, been missed by the detector once, or crossed another face.
Each face is a track; a new frame's faces are matched to the tracks by one assignment (Hungarian,
scipy) over a cost that adds the embedding distance (in units of the same-face distance) to the
box's non-overlap. A pair is allowed only when the embeddings are within the same-face distance
(the engine's verify threshold) AND the boxes are near (overlap, or centres within a box width):
two people who cross or stand close never trade tracks, because their embeddings are farther apart
than that; the same person moving fast stays one track.

Labels (hysteresis): a new track shows its first recognition at once; after that the label changes
only when a different answer (another person, or Unknown) comes CONFIRM_FRAMES analysed frames in
a row. One odd frame (a blur, a turned head, a near tie) therefore never flickers the label, and a
rename shows at once (the name follows the person id). A track missed by the detector keeps its
box on screen for HOLD_MISSES analysed frames (HOLD_S at most) and ends only after MAX_MISSES analysed
frames without it: counted in analysed frames, not seconds, so a pause in the analysis (the page adding
a face, a busy machine) loses nobody; MAX_GAP_S bounds it when the camera stops and starts again later.

"Who is in view and since when" is kept per person (per track for unknown faces): the time the face
came into view, kept while its track lives and across a new track within PRESENCE_GRACE_S.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
from scipy.optimize import linear_sum_assignment

from core.faces.face_track import box_overlap
from core.faces.matching import distances

Box = tuple[float, float, float, float]

CONFIRM_FRAMES = 3  # a different answer must come this many analysed frames in a row to change a label
HOLD_MISSES = 2  # analysed frames a missed face keeps its box on screen...
HOLD_S = 0.6  # ...for at most this long
MAX_MISSES = 5  # a track missed in this many analysed frames in a row ends
MAX_GAP_S = 10.0  # and so does one not seen for this long
PRESENCE_GRACE_S = 2.0  # someone back in view (a new track) within this keeps their "in view since"
STALE_S = 5.0  # no frame analysed for this long (the camera stopped): nobody is listed
_NEAR = 1.0  # centres within this many box widths count as near, even without overlap
_BLOCKED = 1e6


@dataclass(frozen=True)
class Seen:
    """One recognised face of an analysed frame: where, its embedding, and who the gallery says it is."""

    box: Box
    embedding: np.ndarray
    person_id: int | None
    name: str | None
    similarity_pct: float


@dataclass(frozen=True)
class Label:
    """What the preview draws for one tracked face; `name` None means Unknown."""

    track_id: int
    box: Box
    person_id: int | None
    name: str | None
    similarity_pct: float
    seen_now: bool = True  # False while a missed face is held on screen

    @property
    def known(self) -> bool:
        return self.person_id is not None


@dataclass(frozen=True)
class InView:
    """One line of "who is in view now": a named person (all their faces), or one unknown face."""

    person_id: int | None
    name: str | None
    since: datetime
    similarity_pct: float

    @property
    def known(self) -> bool:
        return self.person_id is not None


@dataclass
class _Track:
    id: int
    box: Box
    embedding: np.ndarray
    first_at: float
    last_at: float
    person_id: int | None
    name: str | None
    similarity_pct: float
    misses: int = 0
    candidate: int | None = None
    streak: int = 0

    def observe(self, seen: Seen, at: float) -> None:
        """Take this frame's face; the label changes only after CONFIRM_FRAMES equal answers in a row."""
        self.box, self.embedding, self.last_at, self.misses = seen.box, seen.embedding, at, 0
        if seen.person_id == self.person_id:
            self.candidate, self.streak = None, 0
            self.name, self.similarity_pct = seen.name, seen.similarity_pct  # a rename shows at once
            return
        self.streak = self.streak + 1 if seen.person_id == self.candidate else 1
        self.candidate = seen.person_id
        if self.streak >= CONFIRM_FRAMES:
            self.person_id, self.name, self.similarity_pct = seen.person_id, seen.name, seen.similarity_pct
            self.candidate, self.streak = None, 0

    def shown(self, at: float) -> bool:
        """Whether the face is on screen at `at`: seen now, or missed only briefly."""
        return self.misses <= HOLD_MISSES and at - self.last_at <= HOLD_S

    def label(self) -> Label:
        return Label(self.id, self.box, self.person_id, self.name, self.similarity_pct, seen_now=self.misses == 0)


def _near(a: Box, b: Box) -> bool:
    if box_overlap(a, b) > 0:
        return True
    width = max(a[2] - a[0], b[2] - b[0], 1e-6)
    dx, dy = (a[0] + a[2] - b[0] - b[2]) / 2, (a[1] + a[3] - b[1] - b[3]) / 2
    return float(np.hypot(dx, dy)) <= _NEAR * width


@dataclass
class LiveTracks:
    """The tracked faces of one live view. `update` runs in the frame worker; the page reads `in_view`."""

    same_face: float  # embedding distance under which two sightings may be the same face (verify threshold)
    _tracks: list[_Track] = field(default_factory=list)
    _next_id: int = 1
    _since: dict[tuple[str, int], tuple[float, float]] = field(default_factory=dict)  # key -> (since, last seen)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _last_at: float = float("-inf")  # the last analysed frame
    _wall: float = field(default_factory=lambda: time.time() - time.monotonic())  # monotonic -> wall clock

    def update(self, seen: list[Seen], at: float) -> list[Label]:
        """Match this frame's faces to the tracks, update labels, and return what to draw now."""
        with self._lock:
            self._last_at = at
            self._tracks = [t for t in self._tracks if t.misses < MAX_MISSES and at - t.last_at <= MAX_GAP_S]
            matched = self._assign(seen)
            for track_index, seen_index in matched.items():
                self._tracks[track_index].observe(seen[seen_index], at)
            for index, track in enumerate(self._tracks):
                if index not in matched:
                    track.misses += 1
            taken = set(matched.values())
            for index, face in enumerate(seen):
                if index not in taken:
                    self._tracks.append(_Track(self._next_id, face.box, face.embedding, at, at,
                                               face.person_id, face.name, face.similarity_pct))
                    self._next_id += 1
            shown = [track for track in self._tracks if track.shown(at)]
            self._note_presence(shown, at)
            return [track.label() for track in shown]

    def _assign(self, seen: list[Seen]) -> dict[int, int]:
        """Track index -> face index for the pairs the gates allow, at the least total cost."""
        if not self._tracks or not seen:
            return {}
        cost = np.full((len(self._tracks), len(seen)), _BLOCKED)
        for row, track in enumerate(self._tracks):
            apart = distances(track.embedding, np.stack([face.embedding for face in seen])) / self.same_face
            for col, face in enumerate(seen):
                if apart[col] <= 1.0 and _near(track.box, face.box):
                    cost[row, col] = apart[col] + 1.0 - box_overlap(track.box, face.box)
        rows, cols = linear_sum_assignment(cost)
        return {int(r): int(c) for r, c in zip(rows, cols, strict=True) if cost[r, c] < _BLOCKED}

    def _note_presence(self, shown: list[_Track], at: float) -> None:
        for track in shown:
            key = ("person", track.person_id) if track.person_id is not None else ("track", track.id)
            since, last = self._since.get(key, (track.first_at, at))
            if at - last > PRESENCE_GRACE_S and track.first_at > last:  # a new track, after a real absence
                since = track.first_at
            self._since[key] = (since, at)
        # older entries can belong to no live track (tracks end by MAX_GAP_S)
        self._since = {key: value for key, value in self._since.items() if at - value[1] <= MAX_GAP_S}

    def in_view(self, now: float | None = None) -> list[InView]:
        """Who is in view: named people first (longest in view first), then each unknown face."""
        now = time.monotonic() if now is None else now
        with self._lock:
            people: dict[int, _Track] = {}
            unknown: list[_Track] = []
            for track in self._tracks:
                if now - self._last_at > STALE_S or not track.shown(self._last_at):  # no frames, or gone
                    continue
                if track.person_id is None:
                    unknown.append(track)
                elif track.person_id not in people or track.similarity_pct > people[track.person_id].similarity_pct:
                    people[track.person_id] = track
            rows = []
            for person_id, track in people.items():
                since = self._since.get(("person", person_id), (track.first_at, now))[0]
                rows.append(InView(person_id, track.name, _wall(since + self._wall), track.similarity_pct))
            rows.sort(key=lambda row: row.since)
            for track in sorted(unknown, key=lambda t: t.first_at):
                since = self._since.get(("track", track.id), (track.first_at, now))[0]
                rows.append(InView(None, None, _wall(since + self._wall), track.similarity_pct))
            return rows


def _wall(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
