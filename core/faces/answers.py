"""The face engine's answers as JSON: detect, embed and verify, the same for the shell and the HTTP API.

Why one place: `python -m core faces` and `/api/v1/faces/...` must never describe a face differently.
Each function takes decoded RGB images and a name for each (a path, an upload's file name) to put in notes.
"""

from __future__ import annotations

import numpy as np

from core.faces.engine import get_engine
from core.faces.matching import similarity_percent, verify


def detect_json(rgb: np.ndarray) -> list[dict]:
    """Every face found: box, detector score, five landmarks and the quality verdict."""
    return [face.to_json() for face in get_engine().analyse(rgb, embed=False)]


def embed_json(rgb: np.ndarray) -> dict:
    """Every face found with its embedding, and the model that made them (vectors of two models never compare)."""
    engine = get_engine()
    faces = engine.analyse(rgb)
    return {"embedder": engine.embedder.name, "faces": [face.to_json(with_embedding=True) for face in faces]}


def verify_json(first: np.ndarray, second: np.ndarray, names: tuple[str, str]) -> dict:
    """Whether the largest good faces of two images are one person; raises NoFaceFound / PoorQualityFace."""
    engine = get_engine()
    picks = [engine.largest_good_face(rgb) for rgb in (first, second)]
    answer = verify(picks[0][0].embedding, picks[1][0].embedding, engine.verify_threshold)
    notes = [f"{name} holds {count} faces; the largest good one was used"
             for name, (_, count) in zip(names, picks, strict=True) if count > 1]
    return {
        "embedder": engine.embedder.name,
        "distance": round(answer.distance, 4),
        "threshold": answer.threshold,
        "same_person": answer.same_person,
        "similarity_percent": round(similarity_percent(answer.distance, answer.threshold), 1),
        "face_counts": [count for _, count in picks],
        "faces_used": [face.to_json() for face, _ in picks],
        "notes": notes,
    }
