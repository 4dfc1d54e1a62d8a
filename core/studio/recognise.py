"""Recognising faces against the owner's named people: best person, runner-up, similarity, known or Unknown.

The gallery is every named face of the owner made by the engine's current embedder (never another
model's vectors: their distances mean nothing to each other). A person's score is their NEAREST face,
not a centroid: the percentage scale (core.studio.scale) is calibrated on face-to-face distances, so
the figure means what it means in search, and a new sample in another pose is matched at once.
A face is known when its similarity reaches the threshold (WEBTUBE_STUDIO_MATCH_PERCENT, else the
calibrated default) AND leads the runner-up person by WEBTUBE_RECOGNITION_MARGIN points: two people
nearly as close is a guess, shown as Unknown.

A `Recogniser` serves a live view or a video: when its copy is over `max_age_s` old it asks whether
anything changed (the names, and one aggregate row over the named faces), and only then re-reads
who is named (ids; vectors just for faces it does not hold yet), so a rename, merge or delete
elsewhere reaches a running view within a second or two at little cost per second.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import func, select

from core.config import get_settings
from core.faces.engine import get_engine
from core.faces.types import Face as EngineFace
from core.storage.database import session_scope
from core.storage.studio_models import Face, Person
from core.studio import scale
from core.studio.errors import BadInput

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Candidate:
    """A person a face may be, and how similar (the search's calibrated percentage)."""

    person_id: int
    name: str
    similarity_pct: float


@dataclass(frozen=True)
class Recognition:
    """Who one face is: `person_id` and `name` only when known; `closest` is the nearest person either way."""

    box: Box | None
    person_id: int | None
    name: str | None
    similarity_pct: float
    runner_up: Candidate | None
    known: bool
    closest: Candidate | None

    @property
    def label(self) -> str:
        return self.name if self.known and self.name else "Unknown"

    @property
    def caption(self) -> str:
        """'Ada 91%' or 'Unknown': short enough for a box on a live preview."""
        return f"{self.label} {self.similarity_pct:.0f}%" if self.known else "Unknown"


@dataclass(frozen=True)
class _Gallery:
    """One immutable snapshot: vectors sorted by person, where each person's rows start, and the names."""

    face_people: dict[int, int]  # face id -> person id
    vectors: dict[int, np.ndarray]  # face id -> vector
    matrix: np.ndarray  # (faces, dim), rows grouped by person
    norms: np.ndarray  # each row's squared length
    people: tuple[int, ...]  # person ids in row-group order
    starts: np.ndarray  # first row of each person
    names: dict[int, str]


_EMPTY = _Gallery({}, {}, np.zeros((0, 0), np.float32), np.zeros(0, np.float32), (), np.zeros(0, np.int64), {})


def _build(face_people: dict[int, int], vectors: dict[int, np.ndarray], names: dict[int, str]) -> _Gallery:
    order = sorted(face_people, key=lambda face_id: (face_people[face_id], face_id))
    if not order:
        return _Gallery({}, {}, _EMPTY.matrix, _EMPTY.norms, (), _EMPTY.starts, names)
    owners = np.array([face_people[face_id] for face_id in order])
    starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
    matrix = np.stack([vectors[face_id] for face_id in order])
    return _Gallery(face_people, vectors, matrix, (matrix**2).sum(axis=1), tuple(owners[starts].tolist()), starts,
                    names)


def _named(owner_id: int, embedder: str) -> tuple:
    """Where the owner's named faces of `embedder` stand: people and their names, plus sums over (face, person)
    pairs that any add, delete, move or merge changes. One aggregate row, so a running view asks every second
    for the price of an index scan, not of reading every id into Python."""
    with session_scope() as session:
        names = tuple(session.execute(select(Person.id, Person.name).where(Person.owner_id == owner_id)
                                      .order_by(Person.id)).all())
        sums = session.execute(select(func.count(Face.id), func.sum(Face.id), func.sum(Face.person_id),
                                      func.sum(Face.id * Face.person_id))
                               .where(Face.owner_id == owner_id, Face.embedder == embedder,
                                      Face.person_id.is_not(None))).one()
    return names, tuple(sums)


def _read(owner_id: int, embedder: str, held: dict[int, np.ndarray]) -> tuple[dict[int, int], dict[int, np.ndarray]]:
    """Who is named now (face id -> person id), with vectors; vectors are read only for faces not `held`."""
    with session_scope() as session:
        face_people = dict(session.execute(select(Face.id, Face.person_id).where(
            Face.owner_id == owner_id, Face.embedder == embedder, Face.person_id.is_not(None))).all())
        missing = [face_id for face_id in face_people if face_id not in held]
        vectors = {face_id: held[face_id] for face_id in face_people if face_id in held}
        for start in range(0, len(missing), 500):  # bounded IN lists
            rows = session.execute(select(Face.id, Face.dim, Face.embedding)
                                   .where(Face.id.in_(missing[start:start + 500])))
            vectors.update((face_id, np.frombuffer(blob, "<f4", dim).astype(np.float32)) for face_id, dim, blob in rows)
    return face_people, vectors


class Recogniser:
    """One owner's people, kept fresh from the database, matched against faces or bare vectors; thread-safe."""

    def __init__(self, owner_id: int, *, max_age_s: float = 1.0) -> None:
        self.owner_id = owner_id
        self.embedder = get_engine().settings.embedder
        self.threshold_pct = scale.default_percent()
        self.margin_pct = get_settings().recognition_margin
        self.max_age_s = max_age_s
        self._gallery = _EMPTY
        self._loaded_at: float | None = None
        self._state: tuple | None = None  # what _named() said at the last full read
        self._lock = threading.Lock()

    def refresh(self, force: bool = False) -> None:
        """Re-read the named faces when the copy is older than `max_age_s` (or now, when forced)."""
        with self._lock:
            if not force and self._loaded_at is not None and time.monotonic() - self._loaded_at < self.max_age_s:
                return
            names, sums = _named(self.owner_id, self.embedder)
            if (names, sums) != self._state:
                face_people, vectors = _read(self.owner_id, self.embedder, self._gallery.vectors)
                self._gallery = _build(face_people, vectors, dict(names))
                self._state = (names, sums)
            self._loaded_at = time.monotonic()

    def people(self) -> dict[int, str]:
        """Person id -> name, as of the last refresh."""
        return dict(self._gallery.names)

    def risk_words(self) -> str:
        """What the threshold lets through, measured (the same sentence the search page shows)."""
        return scale.risk_words(self.threshold_pct, self.embedder)

    def recognise(self, faces: Sequence[EngineFace]) -> list[Recognition]:
        """Who each analysed face is, in the order given (boxes as the faces have them)."""
        if any(face.embedding is None for face in faces):
            raise BadInput("Every face must be embedded before it can be recognised.")
        if not faces:
            return []
        vectors = np.stack([np.asarray(face.embedding, dtype=np.float32) for face in faces])
        return self.match_vectors(vectors, [tuple(float(v) for v in face.detection.box) for face in faces])

    def match_vectors(self, vectors: np.ndarray, boxes: Sequence[Box] | None = None) -> list[Recognition]:
        """Who each embedding (rows of the current embedder) is; `boxes`, when given, are carried along."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim == 1:
            vectors = vectors[None, :]
        if boxes is not None and len(boxes) != len(vectors):
            raise BadInput("Give one box per vector.")
        self.refresh()
        gallery = self._gallery
        if gallery.people and vectors.shape[1] != gallery.matrix.shape[1]:
            raise BadInput(f"These vectors are not {self.embedder} embeddings ({vectors.shape[1]} values, "
                           f"not {gallery.matrix.shape[1]}).")
        boxes = list(boxes) if boxes is not None else [None] * len(vectors)
        if not gallery.people:
            return [Recognition(box, None, None, 0.0, None, False, None) for box in boxes]
        squared = (vectors**2).sum(axis=1)[:, None] + gallery.norms[None, :] - 2.0 * vectors @ gallery.matrix.T
        distances = np.sqrt(np.maximum(squared, 0.0))  # Euclidean, without an (n, faces, dim) temporary
        nearest = np.minimum.reduceat(distances, gallery.starts, axis=1)  # (faces, people)
        return [self._decide(box, row, gallery) for box, row in zip(boxes, nearest, strict=True)]

    def _decide(self, box: Box | None, row: np.ndarray, gallery: _Gallery) -> Recognition:
        ranked = np.argsort(row)[:2].tolist()
        best = self._candidate(gallery, ranked[0], float(row[ranked[0]]))
        runner = self._candidate(gallery, ranked[1], float(row[ranked[1]])) if len(ranked) > 1 else None
        lead = best.similarity_pct - (runner.similarity_pct if runner else 0.0)
        known = best.similarity_pct >= self.threshold_pct and (runner is None or lead >= self.margin_pct)
        return Recognition(box, best.person_id if known else None, best.name if known else None,
                           best.similarity_pct, runner, known, best)

    def _candidate(self, gallery: _Gallery, column: int, distance: float) -> Candidate:
        person_id = gallery.people[column]
        return Candidate(person_id, gallery.names.get(person_id, ""),
                         round(scale.percent(distance, self.embedder), 1))
