"""What the database says an index must hold: the check row kept by triggers, and the vectors themselves.

Every face written or deleted, by any code in any process, changes its owner's row in `studio_index_state`
in the same transaction (migration 0004). An index copy remembers the row it was built from (plus its own
changes since); a different row means it is out of step and is rebuilt from the faces before it answers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select

from core.storage.database import session_scope
from core.storage.studio_models import Face, IndexState


@dataclass(frozen=True)
class Mark:
    """The check row of one owner's faces of one model: equal marks mean the same faces."""

    generation: int
    count: int
    id_sum: int

    def after(self, changed: int, count_delta: int, id_delta: int) -> Mark:
        """The mark the database will hold once this many own changes have committed."""
        return Mark(self.generation + changed, self.count + count_delta, self.id_sum + id_delta)


EMPTY = Mark(0, 0, 0)


def current_mark(owner_id: int, embedder: str) -> Mark:
    """The committed check row (one primary-key read); no row means no faces ever."""
    with session_scope() as session:
        row = session.get(IndexState, (owner_id, embedder))
        return EMPTY if row is None else Mark(row.generation, row.face_count, row.id_sum)


def indexed_keys(owner_id: int | None = None) -> list[tuple[int, str]]:
    """Every (owner, embedder) with faces, or one owner's."""
    with session_scope() as session:
        query = select(IndexState.owner_id, IndexState.embedder).where(IndexState.face_count > 0)
        if owner_id is not None:
            query = query.where(IndexState.owner_id == owner_id)
        return [(o, e) for o, e in session.execute(query.order_by(IndexState.owner_id, IndexState.embedder))]


def load_vectors(
    owner_id: int, embedder: str, face_ids: Iterable[int] | None = None, newer_than: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The owner's faces of one model from the database (some ids, or those above an id): ids and float32 rows.

    Read in one pass of raw blobs joined into one buffer, so a million faces cost one copy, not a million arrays.
    """
    query = select(Face.id, Face.embedding).where(Face.owner_id == owner_id, Face.embedder == embedder)
    if face_ids is not None:
        query = query.where(Face.id.in_(list(face_ids)))
    if newer_than is not None:
        query = query.where(Face.id > newer_than)
    with session_scope() as session:
        rows = session.execute(query.order_by(Face.id)).all()
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
    ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
    blob = b"".join(row[1] for row in rows)
    vectors = np.frombuffer(blob, dtype="<f4").reshape(len(rows), -1).astype(np.float32, copy=False)
    return ids, vectors


def snapshot(owner_id: int, embedder: str) -> tuple[Mark, np.ndarray, np.ndarray]:
    """The mark read first, then the faces: the faces are at least as new as the mark, so a change landing
    between the two reads makes the next check fail and rebuild again, never keeps a stale copy."""
    mark = current_mark(owner_id, embedder)
    ids, vectors = load_vectors(owner_id, embedder)
    return mark, ids, vectors
