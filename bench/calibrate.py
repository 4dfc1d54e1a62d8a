"""Calibration data for each embedder: every genuine and impostor distance on the labelled test photos.

Run: `.venv/bin/python -m bench.calibrate [--embedder NAME ...]`. Writes core/faces/calibration.json
(read by core.faces.risk to say what a threshold means: "about 1 in N strangers would pass") and
prints each embedder's summary as JSON, the same figures `python -m core faces evaluate` reports.
The data set is tests/data/faces/people (16 photos of 6 people); a labelled set must never hold the
photos a threshold is later judged on elsewhere, so LFW and other libraries' samples are held out.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from core.config import get_settings
from core.faces.evaluation import embed_photos, engine_for, read_pairs, summary
from core.faces.risk import CALIBRATION_FILE
from tests.support.paths import FACES_DIR

DATASET = FACES_DIR / "people"
DATASET_NAME = "the project's test photos (tests/data/faces/people: 16 photos of 6 people)"


def calibrate(name: str) -> tuple[dict, dict]:
    """The stored distances for one embedder, and the evaluation summary printed beside them."""
    settings = get_settings().model_copy(update={"verify_threshold": None, "signin_threshold": None})
    engine = engine_for(settings, name)
    pairs = read_pairs(DATASET)
    vectors, skipped = embed_photos(engine, sorted({p.first for p in pairs} | {p.second for p in pairs}))
    usable = [p for p in pairs if p.first in vectors and p.second in vectors]
    dists = np.array([np.linalg.norm(vectors[p.first] - vectors[p.second]) for p in usable])
    same = np.array([p.same for p in usable])
    stored = {
        "dataset": DATASET_NAME,
        "detector": settings.detector,
        "genuine": sorted(round(float(d), 4) for d in dists[same]),
        "impostor": sorted(round(float(d), 4) for d in dists[~same]),
    }
    thresholds = {"verify": engine.verify_threshold, "signin": engine.signin_threshold}
    return stored, {**summary(dists[same], dists[~same], thresholds), "skipped": skipped}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--embedder", action="append", dest="embedders", help="default: dlib and sface")
    parser.add_argument("--out", type=Path, default=CALIBRATION_FILE)
    args = parser.parse_args()
    stored, printed = {}, {}
    for name in args.embedders or ["dlib", "sface"]:
        stored[name], printed[name] = calibrate(name)
    partial = args.out.with_suffix(".part")
    partial.write_text(json.dumps(stored, indent=1) + "\n", encoding="utf-8")
    partial.replace(args.out)
    print(json.dumps({"written": str(args.out), "embedders": printed}, indent=2))


if __name__ == "__main__":
    main()
