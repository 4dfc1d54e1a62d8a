"""The face search index: one interface, two backends (in process or Milvus), chosen by WEBTUBE_FACE_INDEX.

The database is the source of truth; an index is a derived copy a command rebuilds. Keeping it in step:
every face change moves a check row in the same transaction (triggers, migration 0004); each copy knows the
row it must see if it holds exactly the database's faces (its own changes included) and, before any search,
compares: a mismatch (a change by another process, or a transaction rolled back after the index was told)
rebuilds that owner's copy from the database first. So a failure between the two steps can delay the index,
never make it answer with faces the database no longer has, or miss ones it has.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Iterable, Sequence
from typing import Protocol

import numpy as np

from core.config import get_settings


class FaceIndex(Protocol):
    """What the studio needs from an index; every call is scoped to one owner (and one face model)."""

    def add(self, owner_id: int, embedder: str, face_ids: Sequence[int], vectors: np.ndarray) -> None: ...

    def remove(self, owner_id: int, face_ids: Sequence[int]) -> None: ...

    def search(
        self, owner_id: int, embedder: str, vector: np.ndarray, top_k: int, max_distance: float | None,
        candidates: Sequence[int] | None = None,
    ) -> list[tuple[int, float]]: ...

    def rebuild(self, owner_id: int | None = None) -> int: ...

    def close(self) -> None: ...


_opened: dict[tuple[str, str], FaceIndex] = {}
_opening = threading.Lock()


def _index_for(backend: str, uri: str) -> FaceIndex:
    if backend == "milvus":
        from core.studio.index_milvus import MilvusIndex

        return MilvusIndex(uri)
    from core.studio.index_memory import MemoryIndex

    return MemoryIndex()


def get_index() -> FaceIndex:
    """The configured backend, one per process and database (a copy of one database never answers for another)."""
    settings = get_settings()
    key = (settings.face_index, (settings.milvus_uri or str(settings.data_dir / "milvus.db"))
           if settings.face_index == "milvus" else settings.database_url)
    with _opening:
        if key not in _opened:
            _opened[key] = _index_for(*key)
        return _opened[key]


def close_index() -> None:
    """Close every backend this process opened (tests switching settings; a Milvus Lite file freed for others)."""
    with _opening:
        for backend in _opened.values():
            backend.close()
        _opened.clear()


def _as_rows(face_ids: Sequence[int], vectors: np.ndarray) -> tuple[list[int], np.ndarray]:
    rows = np.asarray(vectors, dtype=np.float32)
    rows = rows.reshape(1, -1) if rows.ndim == 1 else rows
    ids = [int(i) for i in face_ids]
    if rows.ndim != 2 or rows.shape[0] != len(ids):
        raise ValueError(f"{len(ids)} face ids but {rows.shape[0]} vectors: give one vector per face.")
    return ids, rows


def add_faces(owner_id: int, embedder: str, face_ids: Sequence[int], vectors: np.ndarray) -> None:
    """Tell the index about faces just written to the database (call it inside or after their transaction)."""
    ids, rows = _as_rows(face_ids, vectors)
    if ids:
        get_index().add(owner_id, embedder, ids, rows)


def remove_faces(owner_id: int, face_ids: Iterable[int]) -> None:
    """Tell the index faces were deleted from the database (inside or after the transaction that deleted them)."""
    ids = sorted({int(i) for i in face_ids})
    if ids:
        get_index().remove(owner_id, ids)


def search(
    owner_id: int, embedder: str, vector: np.ndarray, top_k: int = 50, max_distance: float | None = None,
    candidates: Sequence[int] | None = None,
) -> list[tuple[int, float]]:
    """The owner's nearest faces of `embedder` to `vector`: (face id, Euclidean distance), nearest first.

    `candidates` limits the search to those face ids (an album's or a person's); `max_distance` drops farther ones.
    """
    if top_k <= 0:
        return []
    query = np.asarray(vector, dtype=np.float32).reshape(-1)
    return get_index().search(owner_id, embedder, query, top_k, max_distance, candidates)


def rebuild(owner_id: int | None = None) -> int:
    """Rebuild the derived copy from the database (every owner, or one); returns the faces indexed."""
    return get_index().rebuild(owner_id)


def cli_reindex(args: argparse.Namespace) -> dict:
    """`python -m core studio reindex [--owner EMAIL]`: rebuild the derived index from the database."""
    from core.studio.owners import resolve_owner

    started = time.perf_counter()
    faces = rebuild(None if args.owner is None else resolve_owner(args.owner))
    return {"backend": get_settings().face_index, "faces": faces, "seconds": round(time.perf_counter() - started, 3)}
