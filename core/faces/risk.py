"""What a threshold means, in words: "about 1 in N strangers would pass", from measured distances.

The distances are every impostor (and genuine) pair of a labelled data set, per embedder, in
calibration.json beside this file, made by `python -m bench.calibrate`. A rate finer than one pair
in the data cannot be measured, so when no stranger pair passes the sentence says "fewer than 1 in
<pairs>" rather than inventing a figure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from core.faces.engine import get_engine

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")


@dataclass(frozen=True)
class StrangerRate:
    """How many of the data set's stranger pairs a threshold lets through."""

    passed: int
    pairs: int
    dataset: str

    @property
    def words(self) -> str:
        if self.pairs == 0:
            return "No calibration data for this face model: the risk of a stranger passing is not measured."
        if self.passed == 0:
            return (
                f"Fewer than 1 in {self.pairs} strangers would pass: none of {self.pairs} stranger pairs did "
                f"(measured on {self.dataset})."
            )
        return (
            f"About 1 in {round(self.pairs / self.passed)} strangers would pass: {self.passed} of {self.pairs} "
            f"stranger pairs did (measured on {self.dataset})."
        )


@lru_cache(maxsize=1)
def _calibration() -> dict:
    return json.loads(CALIBRATION_FILE.read_text(encoding="utf-8")) if CALIBRATION_FILE.is_file() else {}


def stranger_rate(embedder: str, threshold: float) -> StrangerRate:
    """The measured share of stranger pairs at distance `threshold` or less for `embedder`."""
    entry = _calibration().get(embedder)
    if not entry:
        return StrangerRate(0, 0, "")
    impostor = np.asarray(entry["impostor"], dtype=np.float64)
    return StrangerRate(int((impostor <= threshold).sum()), len(impostor), entry["dataset"])


def signin_risk_words() -> str:
    """The configured sign-in threshold and what it lets through, for the profile's face sign-in section."""
    engine = get_engine()
    rate = stranger_rate(engine.settings.embedder, engine.signin_threshold)
    return f"Face sign-in threshold {engine.signin_threshold:.2f} ({engine.settings.embedder} model). {rate.words}"
