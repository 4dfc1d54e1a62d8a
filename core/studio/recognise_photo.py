"""Recognise a photo: every face boxed, numbered and labelled with its best match, runner-up and similarity.

The photo is read by the safe loader (JPG, PNG or WEBP, the face caps, as a search sample) and only
analysed: nothing is kept unless the owner adds one of its faces (core.studio.recognise_add).
"""

from __future__ import annotations

import argparse
import io
import time
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from core.config import get_settings
from core.faces.engine import get_engine
from core.faces.errors import ImageError
from core.faces.image_files import read_bytes
from core.faces.images import load_image
from core.faces.quality import MIN_SCORE
from core.faces.types import Face as EngineFace
from core.studio.errors import BadInput
from core.studio.owners import resolve_owner
from core.studio.recognise import Recogniser, Recognition
from core.studio.search import SAMPLE_FORMATS, face_thumbnail_jpeg

SHOWN_SIDE = 960
_KNOWN, _UNKNOWN = (40, 200, 70), (255, 170, 0)


@dataclass(frozen=True)
class PhotoFace:
    """One face of the photo: `index` counts left to right from 0 (what `add_face` takes)."""

    index: int
    recognition: Recognition  # box in the decoded photo's pixels
    quality_ok: bool
    quality: str
    thumbnail_jpeg: bytes  # empty when pictures were not asked for


@dataclass(frozen=True)
class PhotoRecognition:
    faces: list[PhotoFace]
    width: int
    height: int
    image_jpeg: bytes  # the photo with every face boxed, numbered and labelled; empty when not asked for
    threshold_pct: float
    margin_pct: float
    embedder: str
    risk: str
    seconds: float


def analyse_photo(image: bytes) -> tuple[np.ndarray, list[EngineFace]]:
    """The decoded photo and its faces as the importer keeps them (detector score >= MIN_SCORE), left to right."""
    if not image:
        raise BadInput("The photo is empty.")
    try:
        rgb = load_image(image, formats=SAMPLE_FORMATS)
    except ImageError as exc:
        raise BadInput(str(exc)) from exc
    faces = [face for face in get_engine().analyse(rgb) if face.detection.score >= MIN_SCORE]
    return rgb, sorted(faces, key=lambda f: (f.detection.box[0], f.detection.box[1]))


def _drawn(rgb: np.ndarray, recognitions: list[Recognition]) -> bytes:
    image = Image.fromarray(rgb)
    factor = min(1.0, SHOWN_SIDE / max(image.size))
    if factor < 1.0:
        image = image.resize((round(image.width * factor), round(image.height * factor)), Image.Resampling.LANCZOS)
    draw = ImageDraw.Draw(image)
    line = max(2, round(image.width / 320))
    font = ImageFont.load_default(size=max(12, round(image.width / 50)))
    for number, found in enumerate(recognitions, start=1):
        x1, y1, x2, y2 = (v * factor for v in found.box)
        colour = _KNOWN if found.known else _UNKNOWN
        draw.rectangle((x1, y1, x2, y2), outline=colour, width=line)
        label = f"{number} {found.caption}"
        left, top, right, bottom = draw.textbbox((x1, y1), label, font=font)
        lift = bottom - top + 4
        draw.rectangle((x1, y1 - lift, x1 + right - left + 6, y1), fill=colour)
        draw.text((x1 + 3, y1 - lift + 1), label, fill=(0, 0, 0), font=font)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=88)
    return out.getvalue()


def recognise_photo(owner_id: int, image: bytes, pictures: bool = True) -> PhotoRecognition:
    """Every face of the photo with its best match, runner-up and similarity, or Unknown (no face: an empty list).

    `pictures=False` (JSON answers: the API, the command line) skips drawing the boxed photo and thumbnails."""
    started = time.perf_counter()
    rgb, faces = analyse_photo(image)
    recogniser = Recogniser(owner_id)
    found = recogniser.recognise(faces)
    listed = [PhotoFace(i, r, bool(f.quality.ok), f.quality.message,
                        face_thumbnail_jpeg(rgb, f.detection.box) if pictures else b"")
              for i, (f, r) in enumerate(zip(faces, found, strict=True))]
    drawn = _drawn(rgb, found) if pictures else b""
    return PhotoRecognition(listed, rgb.shape[1], rgb.shape[0], drawn, recogniser.threshold_pct,
                            recogniser.margin_pct, recogniser.embedder, recogniser.risk_words(),
                            time.perf_counter() - started)


def photo_json(result: PhotoRecognition) -> dict:
    """The command line's view: each face's box, label, similarity, runner-up and quality."""
    def candidate(c):
        return None if c is None else {"person_id": c.person_id, "name": c.name, "similarity_pct": c.similarity_pct}

    return {
        "embedder": result.embedder, "threshold_pct": result.threshold_pct, "margin_pct": result.margin_pct,
        "risk": result.risk, "size": [result.width, result.height], "seconds": round(result.seconds, 3),
        "faces": [{"index": f.index + 1, "box": [round(v, 1) for v in f.recognition.box],
                   "label": f.recognition.label, "known": f.recognition.known,
                   "person_id": f.recognition.person_id, "similarity_pct": f.recognition.similarity_pct,
                   "closest": candidate(f.recognition.closest), "runner_up": candidate(f.recognition.runner_up),
                   "quality": f.quality} for f in result.faces],
    }


def cli_recognise(args: argparse.Namespace) -> dict:
    """`python -m core studio recognise PHOTO [--owner EMAIL]`."""
    owner_id = resolve_owner(args.owner)
    try:  # bounded and checked as a regular file, as every upload is
        data = read_bytes(args.photo, get_settings().max_upload_mb * 2**20)
    except ImageError as exc:
        raise BadInput(f"The photo {args.photo} cannot be read: {exc}") from exc
    return photo_json(recognise_photo(owner_id, data, pictures=False))
