"""Search by sample: the owner's photos holding the face in a sample photo, and photos of chosen people together.

The sample is read by the safe loader (JPG, PNG or WEBP, the face caps) and analysed by the sign-in engine;
only the owner's faces of the same face model are compared (core.studio.index), and the similarity is the
calibrated percentage of core.studio.scale.
"""

from __future__ import annotations

import argparse
import io
import time
from dataclasses import dataclass

import numpy as np
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.config import get_settings
from core.faces.engine import get_engine
from core.faces.errors import ImageError
from core.faces.image_files import read_bytes
from core.faces.images import load_image
from core.faces.quality import MIN_SCORE
from core.faces.types import Face as EngineFace
from core.storage.database import session_scope
from core.storage.studio_models import Album, Face, Person, album_photos
from core.studio import index, library, scale
from core.studio.errors import BadInput, NotFound
from core.studio.owners import resolve_owner
from core.studio.records import FaceInfo, PhotoInfo

SAMPLE_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP"})
MAX_TOP_K = 1000


@dataclass(frozen=True)
class SampleFace:
    """One face of the sample photo the person may choose to search with."""

    index: int
    box: tuple[float, float, float, float]
    quality_ok: bool
    thumbnail_jpeg: bytes


@dataclass(frozen=True)
class Match:
    face: FaceInfo
    photo: PhotoInfo
    similarity_pct: float
    distance: float


@dataclass(frozen=True)
class SearchResult:
    sample_box: tuple[float, float, float, float]
    matches: list[Match]  # best first
    threshold_pct: float
    embedder: str
    seconds: float


def _analyse(image: bytes) -> tuple[np.ndarray, list[EngineFace]]:
    try:
        rgb = load_image(image, formats=SAMPLE_FORMATS)
    except ImageError as exc:
        raise BadInput(str(exc)) from exc
    faces = sorted((f for f in get_engine().analyse(rgb) if f.detection.score >= MIN_SCORE),  # as the importer
                   key=lambda f: (f.detection.box[0], f.detection.box[1]))
    if not faces:
        raise BadInput("No face was found in the sample photo; use a photo where a face is clearly visible.")
    return rgb, faces


def face_thumbnail_jpeg(rgb: np.ndarray, box: tuple[float, float, float, float], side: int = 112) -> bytes:
    x1, y1, x2, y2 = box
    margin = 0.25 * max(x2 - x1, y2 - y1)
    h, w = rgb.shape[:2]
    crop = Image.fromarray(rgb[max(int(y1 - margin), 0): min(int(y2 + margin), h),
                               max(int(x1 - margin), 0): min(int(x2 + margin), w)])
    crop.thumbnail((side, side))
    out = io.BytesIO()
    crop.save(out, format="JPEG", quality=85)
    return out.getvalue()


def sample_faces(image: bytes) -> list[SampleFace]:
    """The faces of a sample photo, left to right, each with a thumbnail to choose from."""
    rgb, faces = _analyse(image)
    return [SampleFace(i, tuple(float(v) for v in f.detection.box), bool(f.quality.ok),
                       face_thumbnail_jpeg(rgb, f.detection.box)) for i, f in enumerate(faces)]


def _candidates(owner_id: int, album_id: int | None, person_id: int | None) -> list[int] | None:
    """Face ids an album or person filter allows (None: no filter); another owner's album or person is NotFound."""
    if album_id is None and person_id is None:
        return None
    with session_scope() as session:
        query = select(Face.id).where(Face.owner_id == owner_id)
        if album_id is not None:
            album = session.get(Album, album_id)
            if album is None or album.owner_id != owner_id:
                raise NotFound("There is no such album in your library.")
            query = query.where(Face.photo_id.in_(select(album_photos.c.photo_id)
                                                  .where(album_photos.c.album_id == album_id)))
        if person_id is not None:
            _own_people(session, owner_id, [person_id])
            query = query.where(Face.person_id == person_id)
        return list(session.scalars(query))


def _own_people(session: Session, owner_id: int, person_ids: list[int]) -> None:
    found = set(session.scalars(select(Person.id).where(Person.owner_id == owner_id, Person.id.in_(person_ids))))
    if found != set(person_ids):
        raise NotFound("There is no such person in your library.")


def _photos(owner_id: int, photo_ids: list[int]) -> dict[int, PhotoInfo]:
    return {pid: library.photo_detail(owner_id, pid).photo for pid in dict.fromkeys(photo_ids)}


def search_by_sample(
    owner_id: int, image: bytes, face_index: int | None = 0, threshold_pct: float | None = None, top_k: int = 50,
    album_id: int | None = None, person_id: int | None = None,
) -> SearchResult:
    """The owner's faces most like the chosen face of the sample, at or above the threshold, best first.

    `face_index` counts the sample's faces left to right from 0 (as `sample_faces` lists them); None takes the largest.
    """
    started = time.perf_counter()
    if not 1 <= top_k <= MAX_TOP_K:
        raise BadInput(f"Top K must be between 1 and {MAX_TOP_K}.")
    pct = scale.default_percent() if threshold_pct is None else float(threshold_pct)
    if not 0 <= pct <= 100:
        raise BadInput("The threshold is a percentage between 0 and 100.")
    _, faces = _analyse(image)
    if face_index is None:
        face_index = max(range(len(faces)), key=lambda i: faces[i].detection.area)
    if not 0 <= face_index < len(faces):
        raise BadInput(f"The sample holds {len(faces)} face(s); choose one of 1 to {len(faces)}.")
    chosen = faces[face_index]
    embedder = get_engine().settings.embedder
    candidates = _candidates(owner_id, album_id, person_id)
    hits = index.search(owner_id, embedder, np.asarray(chosen.embedding, dtype=np.float32), top_k,
                        scale.distance_for(pct, embedder), candidates)
    infos = {face.id: face for face in library.faces_of(owner_id, [face_id for face_id, _ in hits])}
    photos = _photos(owner_id, [infos[face_id].photo_id for face_id, _ in hits if face_id in infos])
    matches = [Match(infos[face_id], photos[infos[face_id].photo_id], round(scale.percent(d, embedder), 1), d)
               for face_id, d in hits if face_id in infos]
    return SearchResult(tuple(float(v) for v in chosen.detection.box), matches, pct, embedder,
                        time.perf_counter() - started)


def photos_with_people(owner_id: int, person_ids: list[int]) -> list[PhotoInfo]:
    """The owner's photos in which every chosen person appears (named faces), newest photo id first."""
    wanted = sorted(set(person_ids))
    if not wanted:
        raise BadInput("Choose at least one person.")
    with session_scope() as session:
        _own_people(session, owner_id, wanted)
        photo_ids = list(session.scalars(
            select(Face.photo_id).where(Face.owner_id == owner_id, Face.person_id.in_(wanted))
            .group_by(Face.photo_id).having(func.count(func.distinct(Face.person_id)) == len(wanted))
            .order_by(Face.photo_id.desc())
        ))
    return list(_photos(owner_id, photo_ids).values())


def result_json(result: SearchResult) -> dict:
    """The command line's (and export's) view of a search: each match's photo origin, box and similarity."""
    return {
        "threshold_pct": result.threshold_pct, "embedder": result.embedder,
        "risk": scale.risk_words(result.threshold_pct, result.embedder),
        "sample_box": [round(v, 1) for v in result.sample_box], "seconds": round(result.seconds, 3),
        "matches": [{"face_id": m.face.id, "photo_id": m.photo.id, "original_name": m.photo.original_name,
                     "origin": m.photo.origin, "box": [round(v, 1) for v in m.face.box],
                     "similarity_pct": m.similarity_pct, "distance": round(m.distance, 4),
                     "person": m.face.person_name} for m in result.matches],
    }


def cli_search(args: argparse.Namespace) -> dict:
    """`python -m core studio search IMAGE [--threshold PERCENT] [--top K] [--owner EMAIL] [--face N]`
    (`--face` 1, 2, ... counts the sample's faces left to right; 0, the default, takes the largest)."""
    owner_id = resolve_owner(args.owner)
    try:  # bounded and checked as a regular file, as every upload is
        data = read_bytes(args.image, get_settings().max_upload_mb * 2**20)
    except ImageError as exc:
        raise BadInput(f"The sample photo {args.image} cannot be read: {exc}") from exc
    result = search_by_sample(owner_id, data, face_index=args.face - 1 if args.face else None,
                              threshold_pct=args.threshold, top_k=args.top)
    return result_json(result)

