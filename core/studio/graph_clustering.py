"""Face clustering on a nearest-neighbour graph: exact blocked kNN search, then Chinese whispers.

Why a kNN graph: a full distance matrix of 100,000 faces is 40 GB; each face only needs its few
nearest neighbours under the match distance, so the search runs over blocks of rows (one
`block x n` matrix at a time, about 128 MB) and keeps k neighbours per face: memory O(n k).
Why Chinese whispers (as in dlib's `chinese_whispers`): it needs no number of clusters, runs in
O(edges) per pass, tied best on the labelled photos and kept strangers apart on synthetic faces where
single linkage and DBSCAN chained them (bench/bench_studio_cluster.py, docs/studio-clustering.md).
It is about twenty lines, so it is written here rather than pulling in a graph library for one function.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_BLOCK_CELLS = 32_000_000  # floats in one block of the distance matrix (128 MB)


@dataclass(frozen=True)
class Graph:
    """Undirected edges (i < j) between faces closer than the match distance, with their distances."""

    n: int
    rows: np.ndarray  # int64
    cols: np.ndarray  # int64
    distances: np.ndarray  # float32


def knn_graph(vectors: np.ndarray, k: int, max_distance: float) -> Graph:
    """Each face joined to its `k` nearest faces within `max_distance` (euclidean), by exact blocked search."""
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    n = len(x)
    if n < 2:
        empty = np.zeros(0, dtype=np.int64)
        return Graph(n, empty, empty, np.zeros(0, dtype=np.float32))
    kk = min(k, n - 1)
    squared = np.einsum("ij,ij->i", x, x)
    half = squared / 2
    limit = np.float32(max_distance) ** 2
    block = max(1, min(n, _BLOCK_CELLS // n))
    rows, cols, dists = [], [], []
    for start in range(0, n, block):
        stop = min(n, start + block)
        # q = x_i.x_j - |x_j|^2 / 2, so that d^2 = |x_i|^2 - 2 q: one pass after the product, not three
        q = x[start:stop] @ x.T
        q -= half[None, :]
        q[np.arange(stop - start), np.arange(start, stop)] = -np.inf  # not its own neighbour
        r, c = _nearest_within(q, kk, (squared[start:stop] - limit) / 2)
        rows.append(r + start)
        cols.append(c)
        dists.append(np.sqrt(np.maximum(squared[r + start] - 2 * q[r, c], 0.0)))
    r, c, d = np.concatenate(rows), np.concatenate(cols), np.concatenate(dists)
    lo, hi = np.minimum(r, c), np.maximum(r, c)
    pairs, first = np.unique(lo * n + hi, return_index=True)  # one edge per pair, whichever side found it
    return Graph(n, (pairs // n).astype(np.int64), (pairs % n).astype(np.int64), d[first])


def _nearest_within(q: np.ndarray, k: int, floor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the (at most) `k` largest entries at or over the row's floor (the nearest faces within the
    distance): one threshold pass, then a sort of the few candidates only, never a partition of whole rows."""
    r, c = np.nonzero(q >= floor[:, None])
    order = np.lexsort((-q[r, c], r))  # by row, nearest first
    r, c = r[order], c[order]
    first = np.searchsorted(r, r)  # where each candidate's row starts
    keep = np.arange(len(r)) - first < k
    return r[keep], c[keep]


def chinese_whispers(graph: Graph, max_distance: float, iterations: int = 20, seed: int = 0) -> np.ndarray:
    """Labels per face: each face, in random order, takes the label its neighbours weigh most (weight 1 - d/max).

    Stops early when a pass changes nothing. A face with no edge keeps a label of its own.
    """
    n = graph.n
    labels = np.arange(n)
    if len(graph.rows) == 0:
        return labels
    weights = np.maximum(1.0 - graph.distances / max_distance, 1e-3).astype(np.float64)
    src = np.concatenate([graph.rows, graph.cols])
    dst = np.concatenate([graph.cols, graph.rows])
    w = np.concatenate([weights, weights])
    order = np.argsort(src, kind="stable")
    starts = np.searchsorted(src[order], np.arange(n + 1))
    neighbours, neighbour_w = dst[order].tolist(), w[order].tolist()
    bounds = starts.tolist()
    current = labels.tolist()
    rng = np.random.default_rng(seed)
    connected = [i for i in range(n) if bounds[i + 1] > bounds[i]]
    for _ in range(iterations):
        changed = 0
        for i in rng.permutation(connected).tolist():
            votes: dict[int, float] = {}
            for j in range(bounds[i], bounds[i + 1]):
                label = current[neighbours[j]]
                votes[label] = votes.get(label, 0.0) + neighbour_w[j]
            best = max(votes, key=votes.__getitem__)
            if best != current[i]:
                current[i] = best
                changed += 1
        if not changed:
            break
    return np.asarray(current)


def groups(labels: np.ndarray, min_size: int) -> list[np.ndarray]:
    """Indices per label with at least `min_size` members, largest first; the rest fit nowhere."""
    _, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    order = np.argsort(inverse, kind="stable")
    split = np.split(order, np.cumsum(np.bincount(inverse))[:-1])
    kept = [members for members, size in zip(split, counts, strict=True) if size >= min_size]
    return sorted(kept, key=lambda m: (-len(m), int(m[0])))
