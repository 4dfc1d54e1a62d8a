"""In-process exact search: per owner and face model, a float32 matrix in memory, checked against the database.

Exact: distances come from the vectors themselves, no approximation. The scan uses |x|^2 - 2 x.q + |q|^2
(one matrix-vector product, BLAS, about 4 bytes per dimension per face read once); the best candidates are
then measured again directly, so the order and distances returned equal a brute-force search. Memory: one
float32 row per face (128 dimensions: 512 bytes) plus its id and norm, grown by doubling.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from core.studio.index_codes import CodedScan
from core.studio.index_state import Mark, current_mark, indexed_keys, load_vectors, snapshot

_MARGIN = 32  # extra candidates measured again, against float32 rounding in the expanded distance
CODED_MIN = 50_000  # from this many faces a shelf scans 8-bit codes first (index_codes.py), exact all the same


@dataclass
class _Shelf:
    """One owner's faces of one model, and the database mark it must see to be in step."""

    expected: Mark
    ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    norms: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    size: int = 0
    coded: CodedScan | None = None  # made on the first large search, extended by appends, dropped by removals

    @classmethod
    def of(cls, mark: Mark, ids: np.ndarray, vectors: np.ndarray) -> _Shelf:
        shelf = cls(expected=mark)
        shelf.append(ids, vectors)
        return shelf

    def append(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids) == 0:
            return
        if self.size == 0:
            self.vectors = np.zeros((0, vectors.shape[1]), dtype=np.float32)
            self.ids, self.norms = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        elif self.vectors.shape[1] != vectors.shape[1]:
            raise ValueError(f"Vectors of {vectors.shape[1]} values cannot join faces of {self.vectors.shape[1]}.")
        need = self.size + len(ids)
        if need > len(self.ids):
            capacity = max(need, 2 * len(self.ids), 64)
            self.ids = np.resize(self.ids, capacity)
            self.norms = np.resize(self.norms, capacity)
            grown = np.zeros((capacity, vectors.shape[1]), dtype=np.float32)
            grown[: self.size] = self.vectors[: self.size]
            self.vectors = grown
        self.ids[self.size : need] = ids
        self.vectors[self.size : need] = vectors
        self.norms[self.size : need] = np.einsum("ij,ij->i", vectors, vectors)
        if self.coded is not None and self.coded.size == self.size:
            self.coded.add(vectors)
        else:
            self.coded = None
        self.size = need

    def drop(self, face_ids: np.ndarray) -> np.ndarray:
        """Remove these ids (those present); returns the ids removed. The last rows fill the holes."""
        holes = np.flatnonzero(np.isin(self.ids[: self.size], face_ids))
        removed = self.ids[holes].copy()
        if len(holes):
            self.coded = None  # rows move: coded again at the next large search
        for hole in holes[::-1]:  # from the end, so a moved row is never a later hole
            last = self.size - 1
            if hole != last:
                self.ids[hole], self.norms[hole] = self.ids[last], self.norms[last]
                self.vectors[hole] = self.vectors[last]
            self.size = last
        return removed

    def nearest(self, query: np.ndarray, top_k: int, rows: np.ndarray | None) -> list[tuple[int, float]]:
        if self.size == 0 or query.shape[0] != self.vectors.shape[1]:
            return []
        vectors, norms, ids = self.vectors[: self.size], self.norms[: self.size], self.ids[: self.size]
        if rows is None and self.size >= CODED_MIN:
            if self.coded is None:
                self.coded = CodedScan(vectors)
            sure = self.coded.nearest(vectors, query, top_k, _MARGIN)
            if sure is not None:
                rows = sure
        if rows is not None:
            vectors, norms, ids = vectors[rows], norms[rows], ids[rows]
        approx = norms - 2.0 * (vectors @ query)
        take = min(len(ids), top_k + _MARGIN)
        best = np.argpartition(approx, take - 1)[:take] if take < len(ids) else np.arange(len(ids))
        exact = np.linalg.norm(vectors[best].astype(np.float64) - query.astype(np.float64), axis=1)
        order = np.lexsort((ids[best], exact))[:top_k]
        return [(int(ids[best][i]), float(exact[i])) for i in order]


class MemoryIndex:
    """Exact search over each owner's faces, loaded lazily from the database and kept in step with it."""

    def __init__(self) -> None:
        self._shelves: dict[tuple[int, str], _Shelf] = {}
        self._lock = threading.RLock()

    def _fresh(self, owner_id: int, embedder: str) -> _Shelf:
        """The shelf, rebuilt first if the database's mark is not the one it expects (caller holds the lock)."""
        key = (owner_id, embedder)
        shelf = self._shelves.get(key)
        mark = current_mark(owner_id, embedder)
        if shelf is not None and shelf.expected == mark:
            return shelf
        if shelf is not None and self._catch_up(owner_id, embedder, shelf, mark):
            return shelf
        mark, ids, vectors = snapshot(owner_id, embedder)
        self._shelves[key] = shelf = _Shelf.of(mark, ids, vectors)
        return shelf

    @staticmethod
    def _catch_up(owner_id: int, embedder: str, shelf: _Shelf, mark: Mark) -> bool:
        """Only new faces since (another process imported): read just those, and keep them if the marks agree."""
        added = mark.count - shelf.expected.count
        if added <= 0 or added != mark.generation - shelf.expected.generation or shelf.size == 0:
            return False
        newest = int(shelf.ids[: shelf.size].max())
        ids, vectors = load_vectors(owner_id, embedder, newer_than=newest)
        if len(ids) != added or shelf.expected.id_sum + int(ids.sum()) != mark.id_sum:
            return False
        shelf.append(ids, vectors)
        shelf.expected = mark
        return True

    def add(self, owner_id: int, embedder: str, face_ids: Sequence[int], vectors: np.ndarray) -> None:
        with self._lock:
            shelf = self._shelves.get((owner_id, embedder))
            if shelf is None:  # not loaded yet: the first search loads it, these faces included
                return
            ids = np.asarray(face_ids, dtype=np.int64)
            fresh = ~np.isin(ids, shelf.ids[: shelf.size])
            shelf.append(ids[fresh], vectors[fresh])
            shelf.expected = shelf.expected.after(int(fresh.sum()), int(fresh.sum()), int(ids[fresh].sum()))

    def remove(self, owner_id: int, face_ids: Sequence[int]) -> None:
        with self._lock:
            for (owner, _), shelf in self._shelves.items():
                if owner == owner_id:
                    removed = shelf.drop(np.asarray(face_ids, dtype=np.int64))
                    shelf.expected = shelf.expected.after(len(removed), -len(removed), -int(removed.sum()))

    def search(
        self, owner_id: int, embedder: str, vector: np.ndarray, top_k: int, max_distance: float | None,
        candidates: Sequence[int] | None = None,
    ) -> list[tuple[int, float]]:
        with self._lock:
            shelf = self._fresh(owner_id, embedder)
            rows = None
            if candidates is not None:
                rows = np.flatnonzero(np.isin(shelf.ids[: shelf.size], np.asarray(list(candidates), dtype=np.int64)))
            found = shelf.nearest(vector.astype(np.float32), top_k, rows)
        return [(i, d) for i, d in found if max_distance is None or d <= max_distance]

    def rebuild(self, owner_id: int | None = None) -> int:
        with self._lock:
            for key in [k for k in self._shelves if owner_id is None or k[0] == owner_id]:
                del self._shelves[key]
            total = 0
            for owner, embedder in indexed_keys(owner_id):
                total += self._fresh(owner, embedder).size
            return total

    def close(self) -> None:
        """Forget every copy (memory back to the system); the next search loads again."""
        with self._lock:
            self._shelves.clear()

    def held(self, owner_id: int, embedder: str) -> int:
        """How many faces this process holds for the owner (no database check): for tests and benchmarks."""
        shelf = self._shelves.get((owner_id, embedder))
        return 0 if shelf is None else shelf.size

