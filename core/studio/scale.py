"""The similarity percentage of search: distances of each face model mapped onto one scale where 70 % is a
loose match and 95 % a near-certain one, calibrated on labelled photos.

Anchors per model, from the labelled pairs in core/faces/calibration.json (`python -m bench.calibrate`):
  95 %  the median distance of same-person pairs: half of true matches score at least this, no stranger does;
  80 %  the model's calibrated verify threshold (core/faces/embedders.py CALIBRATED): the default, DEFAULT_PERCENT;
  70 %  the distance 1 stranger pair in 20 falls under (5th percentile of stranger pairs): loose;
  100 % at distance 0 and 0 % at twice the 70 % distance; straight lines between the anchors.
A model without calibration data (facenet today) gets anchors scaled from its verify threshold (0.6x and 1.2x),
and its risk reads "not measured". The percentage is monotone, so a threshold in percent is a distance.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from core.config import get_settings
from core.faces.risk import _calibration, stranger_rate
from core.faces.thresholds import CALIBRATED

DEFAULT_PERCENT = 80.0  # the calibrated verify threshold of every model sits here
LOW, HIGH = 70.0, 95.0  # the slider's range
_PERCENTS = np.array([100.0, HIGH, DEFAULT_PERCENT, LOW, 0.0])


@dataclass(frozen=True)
class Anchors:
    """Distances of one model at 100, 95, 80, 70 and 0 %, and whether they were measured."""

    distances: tuple[float, float, float, float, float]
    measured: bool


@lru_cache(maxsize=8)
def anchors(embedder: str) -> Anchors:
    """The scale's anchor distances for `embedder` (see the module docstring)."""
    verify = CALIBRATED[embedder].verify if embedder in CALIBRATED else 0.6
    entry = _calibration().get(embedder)
    if entry and entry.get("genuine") and entry.get("impostor"):
        near = float(np.median(entry["genuine"]))
        loose = float(np.percentile(entry["impostor"], 5))
        measured = True
    else:
        near, loose, measured = 0.6 * verify, 1.2 * verify, False
    near, loose = min(near, 0.95 * verify), max(loose, 1.05 * verify)  # keeps the scale strictly monotone
    return Anchors((0.0, near, verify, loose, 2.0 * loose), measured)


def percent(distance: float, embedder: str) -> float:
    """Similarity in percent (0-100) of a Euclidean distance between two faces of `embedder`."""
    return float(np.interp(distance, anchors(embedder).distances, _PERCENTS))


def distance_for(pct: float, embedder: str) -> float:
    """The distance a similarity of `pct` percent stands for (the largest distance still scoring `pct`)."""
    knots = anchors(embedder).distances
    return float(np.interp(-min(max(pct, 0.0), 100.0), -_PERCENTS, knots))


def default_percent() -> float:
    """The search threshold when none is chosen: WEBTUBE_STUDIO_MATCH_PERCENT, else the calibrated default."""
    chosen = get_settings().studio_match_percent
    return DEFAULT_PERCENT if chosen is None else chosen


def risk_words(pct: float, embedder: str) -> str:
    """What a threshold of `pct` percent lets through, measured: strangers passing and true matches found."""
    distance = distance_for(pct, embedder)
    rate = stranger_rate(embedder, distance)
    entry = _calibration().get(embedder) or {}
    genuine = np.asarray(entry.get("genuine", []), dtype=np.float64)
    found = f" It finds {int((genuine <= distance).sum())} of {len(genuine)} same-person pairs." if len(genuine) else ""
    return f"At {pct:.0f} % (distance {distance:.3f}, {embedder} model): {rate.words}{found}"
