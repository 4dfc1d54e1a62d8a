"""Matching in the embedder's own metric: 1:1 verify, 1:N identify with an explicit "unknown".

Distances are euclidean between embeddings (dlib's ResNet was trained for that metric; the
optional FaceNet's vectors are unit length, so euclidean is monotone in cosine there too).
People see a similarity percentage; `similarity_percent` is its one definition.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np


def distances(query: np.ndarray, gallery: np.ndarray) -> np.ndarray:
    """Euclidean distance from one vector to each row of `gallery`."""
    if len(gallery) == 0:
        return np.zeros(0, dtype=np.float32)
    diff = np.asarray(gallery, dtype=np.float32) - np.asarray(query, dtype=np.float32)[None, :]
    return np.sqrt(np.einsum("ij,ij->i", diff, diff))


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance between two embeddings."""
    return float(distances(a, np.asarray(b)[None, :])[0])


def similarity_percent(dist: float, threshold: float) -> float:
    """Similarity shown to people: 100% at distance 0, 50% exactly at the verify threshold, 0% at twice it."""
    return float(np.clip(1.0 - dist / (2.0 * threshold), 0.0, 1.0) * 100.0)


@dataclass(frozen=True)
class Verification:
    """Answer to "are these two faces the same person?"."""

    distance: float
    threshold: float

    @property
    def same_person(self) -> bool:
        return self.distance <= self.threshold


@dataclass(frozen=True)
class Identification:
    """Answer to "who among the known people is this?"; `label` is None for unknown."""

    label: Hashable | None
    distance: float
    runner_up: Hashable | None
    runner_up_distance: float
    threshold: float

    @property
    def known(self) -> bool:
        return self.label is not None

    @property
    def margin(self) -> float:
        return self.runner_up_distance - self.distance


def verify(a: np.ndarray, b: np.ndarray, threshold: float) -> Verification:
    """Same person when the distance is at most the threshold."""
    return Verification(distance=distance(a, b), threshold=threshold)


def identify(
    query: np.ndarray,
    gallery: np.ndarray,
    labels: Sequence[Hashable],
    threshold: float,
    margin: float = 0.0,
) -> Identification:
    """Best label by its closest sample; unknown if too far, or too close to the runner-up label.

    Several samples per person are allowed: each person counts once, by their nearest sample,
    so the runner-up is always a different person.
    """
    dists = distances(query, gallery)
    best_per_label: dict[Hashable, float] = {}
    for label, dist in zip(labels, dists.tolist(), strict=True):
        if dist < best_per_label.get(label, np.inf):
            best_per_label[label] = dist
    ranked = sorted(best_per_label.items(), key=lambda item: item[1])
    if not ranked:
        return Identification(None, float("inf"), None, float("inf"), threshold)
    best_label, best = ranked[0]
    runner_label, runner = ranked[1] if len(ranked) > 1 else (None, float("inf"))
    accepted = best <= threshold and runner - best >= margin
    return Identification(best_label if accepted else None, best, runner_label, runner, threshold)
