"""A fast first pass for large shelves: 8-bit codes scanned by faiss, then an exact, certified second pass.

Why: an exact float32 scan reads 512 bytes a face; at a million faces that is half a gigabyte per query and
several hundred milliseconds on two loaded cores. faiss (a maintained library, already installed with Milvus
Lite) scans 8-bit scalar-quantised codes, a quarter of the bytes, with SIMD. The answer stays exact: every
face's code is at most `error` away from its vector (measured when coded), so a face outside the candidates is
at least (farthest candidate's coded distance - error) away; when that is beyond the k-th exact distance, no
face outside can belong in the answer, otherwise the candidate list grows until it is, or becomes everything.
One query scans on one thread: faiss's OpenMP threads spin-wait for each other on a busy 2-core machine
(measured over a million faces, load ~9: p50 57 ms on two threads, 14 ms on one); queries of different app
threads still run side by side.
"""

from __future__ import annotations

import faiss
import numpy as np

_CHUNK = 100_000


class CodedScan:
    """8-bit codes of a shelf's rows (same positions), with the largest reconstruction error among them."""

    def __init__(self, vectors: np.ndarray) -> None:
        self._index = faiss.IndexScalarQuantizer(vectors.shape[1], faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_L2)
        self._index.train(vectors)
        self.error = 0.0
        self.add(vectors)

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    def add(self, vectors: np.ndarray) -> None:
        """Append rows (codes outside the trained range are clamped; the measured error covers them)."""
        for start in range(0, len(vectors), _CHUNK):
            chunk = np.ascontiguousarray(vectors[start : start + _CHUNK], dtype=np.float32)
            decoded = self._index.sa_decode(self._index.sa_encode(chunk))
            self.error = max(self.error, float(np.linalg.norm(decoded - chunk, axis=1).max(initial=0.0)))
            self._index.add(chunk)

    def nearest(self, vectors: np.ndarray, query: np.ndarray, top_k: int, margin: int) -> np.ndarray | None:
        """Row positions certainly holding the exact top_k (a superset); None when that is every row."""
        want = max(top_k + margin, 1024)  # one scan usually certifies: distances of random faces bunch up
        q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        while want < self.size:
            coded, rows = self._scan(q, want)
            rows = rows[0][rows[0] >= 0]
            exact = np.linalg.norm(vectors[rows].astype(np.float64) - query.astype(np.float64), axis=1)
            kth = np.partition(exact, min(top_k, len(exact)) - 1)[min(top_k, len(exact)) - 1]
            if np.sqrt(max(float(coded[0][-1]), 0.0)) - self.error - 1e-4 > kth:
                return rows
            want *= 8
        return None

    def _scan(self, query: np.ndarray, want: int) -> tuple[np.ndarray, np.ndarray]:
        """faiss's search on this thread alone (OpenMP's thread count is per calling thread, so restored after)."""
        threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)
        try:
            return self._index.search(query, want)
        finally:
            faiss.omp_set_num_threads(threads)
