"""Export an owner's faces (or a search's matches) as CSV or JSON, embeddings optionally beside them.

One row per face: the photo (id, file name, original path or link), its albums and their sources,
the box, score, quality, person and cluster; search results add the similarity. Embeddings go to a
NumPy `.npy` (rows in the same order, `embedding_row` in the table points into it) or, when asked,
a Parquet file with the face id beside each vector (pyarrow is already installed with Streamlit).
Files are written to a temporary name and renamed, so a failed export leaves nothing half-written.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.config import get_settings
from core.storage.database import session_scope
from core.storage.studio_models import Album, Face, Person, Photo, album_photos
from core.studio.clustering import vectors_of
from core.studio.errors import BadInput

FORMATS = ("csv", "json")
EMBEDDING_FORMATS = ("npy", "parquet")
COLUMNS = (
    "face_id", "photo_id", "file_name", "origin", "albums", "album_sources", "x1", "y1", "x2", "y2", "score",
    "quality_ok", "quality_reasons", "person_id", "person", "named_by", "cluster_id", "embedder", "embedding_row",
)


@dataclass(frozen=True)
class ExportFiles:
    main: Path
    embeddings: Path | None


def _check(fmt: str, embeddings_format: str = "npy") -> None:
    if fmt not in FORMATS:
        raise BadInput(f"Export as csv or json, not {fmt}.")
    if embeddings_format not in EMBEDDING_FORMATS:
        raise BadInput(f"Embeddings go to npy or parquet, not {embeddings_format}.")


def _destination(owner_id: int, fmt: str, dest: Path | None, stem: str) -> Path:
    if dest is not None:
        return Path(dest).expanduser()
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
    return get_settings().data_dir / "exports" / str(owner_id) / f"{stem}-{stamp}.{fmt}"


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(handle)
    try:
        write(Path(temporary))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _render(rows: list[dict], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=1)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "; ".join(map(str, v)) if isinstance(v, list) else v for k, v in row.items()})
    return out.getvalue()


def _rows(session: Session, owner_id: int, faces: list[Face]) -> list[dict]:
    photo_ids = {f.photo_id for f in faces}
    photos = {p.id: p for p in session.scalars(select(Photo).where(Photo.owner_id == owner_id,
                                                                  Photo.id.in_(photo_ids)))}
    albums: dict[int, list[tuple[str, str]]] = {}
    for photo_id, name, source in session.execute(
        select(album_photos.c.photo_id, Album.name, Album.source).join(Album, Album.id == album_photos.c.album_id)
        .where(Album.owner_id == owner_id, album_photos.c.photo_id.in_(photo_ids)).order_by(Album.name)
    ):
        albums.setdefault(photo_id, []).append((name, source))
    names = dict(session.execute(select(Person.id, Person.name).where(Person.owner_id == owner_id)).all())
    rows = []
    for face in faces:
        photo = photos[face.photo_id]
        in_albums = albums.get(face.photo_id, [])
        rows.append({
            "face_id": face.id, "photo_id": photo.id, "file_name": photo.original_name, "origin": photo.origin,
            "albums": [a for a, _ in in_albums], "album_sources": sorted({s for _, s in in_albums}),
            "x1": round(face.x1, 1), "y1": round(face.y1, 1), "x2": round(face.x2, 1), "y2": round(face.y2, 1),
            "score": round(face.score, 4), "quality_ok": face.quality_ok,
            "quality_reasons": [r for r in face.quality_reasons.split("; ") if r],
            "person_id": face.person_id, "person": names.get(face.person_id), "named_by": face.named_by,
            "cluster_id": face.cluster_id, "embedder": face.embedder, "embedding_row": None,
        })
    return rows


def _write_embeddings(path: Path, faces: list[Face], rows: list[dict], embeddings_format: str) -> Path | None:
    """The configured embedder's vectors beside the table; rows of other models get no embedding_row."""
    embedder = get_settings().embedder
    chosen = [(i, f) for i, f in enumerate(faces) if f.embedder == embedder]
    for position, (i, _) in enumerate(chosen):
        rows[i]["embedding_row"] = position
    vectors = vectors_of([f for _, f in chosen])
    target = path.with_name(f"{path.stem}.embeddings.{embeddings_format}")
    if embeddings_format == "npy":
        _atomic_write(target, lambda t: np.save(t, vectors, allow_pickle=False))
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.table({"face_id": [f.id for _, f in chosen],
                          "embedding": pa.FixedSizeListArray.from_arrays(vectors.ravel(), vectors.shape[1])
                          if len(chosen) else pa.array([], pa.list_(pa.float32()))})
        _atomic_write(target, lambda t: pq.write_table(table, t))
    return target


def export_faces(owner_id: int, fmt: str = "csv", embeddings: bool = False, dest: Path | None = None,
                 embeddings_format: str = "npy") -> ExportFiles:
    """Every face of the owner's library, one row each; with `embeddings`, their vectors beside the table."""
    _check(fmt, embeddings_format)
    path = _destination(owner_id, fmt, dest, "faces")
    with session_scope() as session:
        faces = list(session.scalars(select(Face).where(Face.owner_id == owner_id).order_by(Face.id)))
        rows = _rows(session, owner_id, faces)
        vectors_path = _write_embeddings(path, faces, rows, embeddings_format) if embeddings else None
    _atomic_write(path, lambda t: t.write_text(_render(rows, fmt), encoding="utf-8"))
    return ExportFiles(path, vectors_path)


def export_search(result, fmt: str = "csv", dest: Path | None = None) -> ExportFiles:
    """A search's matches, best first, as rows with their similarity (percent) and distance added."""
    _check(fmt)
    matches = list(result.matches)
    if not matches:
        rows: list[dict] = []
        owner_id = 0
    else:
        with session_scope() as session:
            faces = [session.get(Face, m.face.id) for m in matches]
            if any(f is None for f in faces):
                raise BadInput("Some of these matches were deleted since the search: search again.")
            owner_id = faces[0].owner_id
            rows = _rows(session, owner_id, faces)
        for row, match in zip(rows, matches, strict=True):
            row.pop("embedding_row")
            row["similarity_pct"] = round(float(match.similarity_pct), 1)
            row["distance"] = round(float(match.distance), 4)
    path = _destination(owner_id, fmt, dest, "search")
    _atomic_write(path, lambda t: t.write_text(_render(rows, fmt), encoding="utf-8"))
    return ExportFiles(path, None)


def cli_export(args) -> dict:
    """`python -m core studio export --format csv|json [--embeddings] [--output PATH] [--owner EMAIL]`."""
    from core.studio.owners import resolve_owner

    owner_id = resolve_owner(getattr(args, "owner", None))
    output = getattr(args, "output", None)
    files = export_faces(owner_id, args.format, bool(getattr(args, "embeddings", False)),
                         Path(output) if output else None, getattr(args, "embeddings_format", None) or "npy")
    return {"file": str(files.main), "embeddings": str(files.embeddings) if files.embeddings else None}
