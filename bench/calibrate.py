"""Calibration data for each embedder: every genuine and impostor distance on the labelled test photos.

Run: `.venv/bin/python -m bench.calibrate [--embedder NAME ...]`. Writes core/faces/calibration.json
(read by core.faces.risk to say what a threshold means: "about 1 in N strangers would pass") and
prints each embedder's summary as JSON, the same figures `python -m core faces evaluate` reports.
The data set is every labelled photo the project may use: tests/data/faces/people (16 photos of 6
people, from face_recognition) and tests/data/faces/public (10 photos of 8 other people, from
facenet-pytorch and OpenFace; see tests/data/faces/README.md), every pair across both sets. A labelled
set must never hold the photos a threshold is later judged on elsewhere, so LFW, deepface's test images
and CompreFace's and face-api.js's samples are held out.
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np

from core.config import get_settings
from core.faces.evaluation import IMAGE_SUFFIXES, Pair, embed_photos, engine_for, summary
from core.faces.risk import CALIBRATION_FILE
from tests.support.paths import FACES_DIR

DATASETS = (FACES_DIR / "people", FACES_DIR / "public")  # different people in each: every cross pair is an impostor
DATASET_NAME = "the labelled test photos (tests/data/faces/people and tests/data/faces/public: 26 photos of 14 people)"


def labelled_pairs() -> list[Pair]:
    """Every pair of photos across DATASETS, same person when the set and the person's folder match."""
    photos = [
        ((folder.name, person.name), photo)
        for folder in DATASETS
        for person in sorted(p for p in folder.iterdir() if p.is_dir())
        for photo in sorted(person.iterdir())
        if photo.suffix.lower() in IMAGE_SUFFIXES
    ]
    return [Pair(a, b, who_a == who_b) for (who_a, a), (who_b, b) in itertools.combinations(photos, 2)]


def calibrate(name: str) -> tuple[dict, dict]:
    """The stored distances for one embedder, and the evaluation summary printed beside them."""
    settings = get_settings().model_copy(update={"verify_threshold": None, "signin_threshold": None})
    engine = engine_for(settings, name)
    pairs = labelled_pairs()
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
