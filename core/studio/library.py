"""The photo library: albums, photos and their faces, read and deleted strictly within one owner's library.

Deleting is where the face data rule bites: a photo's faces leave the database and the search index
in the same transaction (the index is told inside it, so a failure there rolls the rows back), and
its file and cached thumbnails leave the disk once the transaction has committed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, aliased

from core.config import get_settings
from core.storage.database import purge_deleted, session_scope
from core.storage.models import utcnow
from core.storage.studio_models import Album, Face, Person, Photo, album_photos
from core.studio.errors import BadInput, NotFound, owned
from core.studio.records import AlbumInfo, FaceInfo, PhotoDetail, PhotoInfo, PhotoPage

SOURCES = ("upload", "folder", "cloud")
STATUSES = ("processed", "no_faces", "failed")


def owner_dir(owner_id: int) -> Path:
    """Where an owner's photos live: `<data dir>/studio/<owner>/`."""
    return get_settings().data_dir / "studio" / str(owner_id)


def stored_relative(owner_id: int, sha256: str, ext: str) -> str:
    """The data-dir-relative path of a photo's file: `studio/<owner>/<sha[:2]>/<sha>.<ext>`."""
    return f"studio/{owner_id}/{sha256[:2]}/{sha256}.{ext}"


def thumbs_dir(owner_id: int) -> Path:
    """The owner's thumbnail cache (face crops), removed with the faces they show."""
    return owner_dir(owner_id) / "thumbs"


def _photo_info(photo: Photo, face_count: int, album_ids: Iterable[int]) -> PhotoInfo:
    return PhotoInfo(
        id=photo.id, original_name=photo.original_name, origin=photo.origin, width=photo.width,
        height=photo.height, taken_at=photo.taken_at, status=photo.status, reason=photo.reason,
        face_count=face_count, album_ids=tuple(sorted(album_ids)),
    )


def _face_rows(session: Session, owner_id: int, *where: object) -> list[FaceInfo]:
    named, suggested = aliased(Person), aliased(Person)
    rows = session.execute(
        select(Face, named.name, suggested.name)
        .outerjoin(named, named.id == Face.person_id)
        .outerjoin(suggested, suggested.id == Face.suggested_person_id)
        .where(Face.owner_id == owner_id, *where)
        .order_by(Face.photo_id, Face.id)
    )
    return [
        FaceInfo(
            id=face.id, photo_id=face.photo_id, box=(face.x1, face.y1, face.x2, face.y2), score=face.score,
            quality_ok=face.quality_ok,
            quality_reasons=tuple(r for r in face.quality_reasons.split("; ") if r),
            embedder=face.embedder, person_id=face.person_id, person_name=person_name,
            cluster_id=face.cluster_id, named_by=face.named_by, suggested_person_id=face.suggested_person_id,
            suggested_person_name=suggested_name,
        )
        for face, person_name, suggested_name in rows
    ]


def _photo_infos(session: Session, photos: list[Photo]) -> list[PhotoInfo]:
    ids = [photo.id for photo in photos]
    if not ids:
        return []
    counts = dict(session.execute(
        select(Face.photo_id, func.count(Face.id)).where(Face.photo_id.in_(ids)).group_by(Face.photo_id)
    ).all())
    albums: dict[int, list[int]] = {}
    for album_id, photo_id in session.execute(
        select(album_photos.c.album_id, album_photos.c.photo_id).where(album_photos.c.photo_id.in_(ids))
    ):
        albums.setdefault(photo_id, []).append(album_id)
    return [_photo_info(photo, counts.get(photo.id, 0), albums.get(photo.id, ())) for photo in photos]


def _album_info(session: Session, album: Album) -> AlbumInfo:
    photo_ids = select(album_photos.c.photo_id).where(album_photos.c.album_id == album.id)
    photos = session.scalar(select(func.count()).select_from(photo_ids.subquery())) or 0
    faces = session.scalar(select(func.count(Face.id)).where(Face.photo_id.in_(photo_ids))) or 0
    return AlbumInfo(id=album.id, name=album.name, source=album.source, source_ref=album.source_ref,
                     photo_count=photos, face_count=faces, created_at=album.created_at)


def _own_album(session: Session, owner_id: int, album_id: int) -> Album:
    return owned(session, Album, owner_id, album_id, "There is no such album in your library.")


def _own_photo(session: Session, owner_id: int, photo_id: int) -> Photo:
    return owned(session, Photo, owner_id, photo_id, "There is no such photo in your library.")


def clean_album_name(name: str) -> str:
    """An album name as stored: trimmed, single-spaced, 1 to 120 characters."""
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise BadInput("Give the album a name.")
    if len(cleaned) > 120:
        raise BadInput("An album name can be at most 120 characters long.")
    return cleaned


def create_album(owner_id: int, name: str, source: str = "upload", source_ref: str | None = None) -> AlbumInfo:
    """A new album, or the owner's existing album of that name (imports into the same album add to it)."""
    cleaned = clean_album_name(name)
    if source not in SOURCES:
        raise BadInput(f"An album's source is one of {', '.join(SOURCES)}.")
    with session_scope() as session:
        album = session.scalar(select(Album).where(Album.owner_id == owner_id, Album.name == cleaned))
        if album is None:
            album = Album(owner_id=owner_id, name=cleaned, source=source, source_ref=source_ref, created_at=utcnow())
            session.add(album)
            session.flush()
        return _album_info(session, album)


def list_albums(owner_id: int) -> list[AlbumInfo]:
    """The owner's albums, newest first."""
    with session_scope() as session:
        albums = session.scalars(
            select(Album).where(Album.owner_id == owner_id).order_by(Album.created_at.desc(), Album.id.desc())
        ).all()
        return [_album_info(session, album) for album in albums]


def list_photos(
    owner_id: int, album_id: int | None = None, status: str | None = None, page: int = 1, page_size: int = 48
) -> PhotoPage:
    """One page of the owner's photos (optionally one album's, or one status: "no_faces" is the No faces view)."""
    if status is not None and status not in STATUSES:
        raise BadInput(f"A photo's status is one of {', '.join(STATUSES)}.")
    page_size = max(1, min(page_size, 500))
    with session_scope() as session:
        query = select(Photo).where(Photo.owner_id == owner_id)
        if album_id is not None:
            _own_album(session, owner_id, album_id)
            in_album = select(album_photos.c.photo_id).where(album_photos.c.album_id == album_id)
            query = query.where(Photo.id.in_(in_album))
        if status is not None:
            query = query.where(Photo.status == status)
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        pages = max(1, math.ceil(total / page_size))
        page = max(1, min(page, pages))
        photos = session.scalars(
            query.order_by(Photo.created_at.desc(), Photo.id.desc()).offset((page - 1) * page_size).limit(page_size)
        ).all()
        return PhotoPage(items=_photo_infos(session, list(photos)), page=page, pages=pages, total=total)


def photo_detail(owner_id: int, photo_id: int) -> PhotoDetail:
    """A photo and every face found in it."""
    with session_scope() as session:
        photo = _own_photo(session, owner_id, photo_id)
        return PhotoDetail(photo=_photo_infos(session, [photo])[0],
                           faces=_face_rows(session, owner_id, Face.photo_id == photo_id))


def photo_file(owner_id: int, photo_id: int) -> Path:
    """The stored file of one of the owner's photos (failed photos have none)."""
    with session_scope() as session:
        photo = _own_photo(session, owner_id, photo_id)
        if not photo.stored_path:
            raise NotFound("This photo could not be read, so no file of it is kept.")
        return get_settings().data_dir / photo.stored_path


def faces_of(owner_id: int, face_ids: Iterable[int]) -> list[FaceInfo]:
    """The owner's faces among `face_ids` (others' ids are silently absent), in photo order."""
    ids = list(dict.fromkeys(face_ids))
    if not ids:
        return []
    with session_scope() as session:
        return _face_rows(session, owner_id, Face.id.in_(ids))


def face_vectors(owner_id: int, embedder: str, face_ids: Iterable[int] | None = None) -> tuple[list[int], np.ndarray]:
    """The owner's face embeddings of one embedder, from the database (the source of truth), as float32 rows."""
    with session_scope() as session:
        query = select(Face.id, Face.dim, Face.embedding).where(Face.owner_id == owner_id, Face.embedder == embedder)
        if face_ids is not None:
            query = query.where(Face.id.in_(list(face_ids)))
        rows = session.execute(query.order_by(Face.id)).all()
    if not rows:
        return [], np.zeros((0, 0), dtype=np.float32)
    vectors = np.stack([np.frombuffer(blob, dtype="<f4", count=dim) for _, dim, blob in rows]).astype(np.float32)
    return [face_id for face_id, _, _ in rows], vectors


def _remove_photos(session: Session, owner_id: int, photo_ids: list[int]) -> list[Path]:
    """Delete photos and their faces in this transaction, the index told inside it; returns files to unlink."""
    if not photo_ids:
        return []
    from core.studio import index  # the index engineer's module; imported late so the library loads without it

    face_ids = list(session.scalars(select(Face.id).where(Face.owner_id == owner_id, Face.photo_id.in_(photo_ids))))
    stored = list(session.scalars(select(Photo.stored_path).where(Photo.id.in_(photo_ids), Photo.owner_id == owner_id)))
    if face_ids:
        session.execute(update(Person).where(Person.owner_id == owner_id, Person.cover_face_id.in_(face_ids))
                        .values(cover_face_id=None))
        session.execute(delete(Face).where(Face.id.in_(face_ids)))
    session.execute(delete(Photo).where(Photo.id.in_(photo_ids), Photo.owner_id == owner_id))
    session.flush()
    if face_ids:
        index.remove_faces(owner_id, face_ids)  # raises -> the transaction rolls back, nothing is out of step
    data_dir = get_settings().data_dir
    files = [data_dir / path for path in stored if path]
    for name in [f"f{face_id}" for face_id in face_ids] + [f"p{photo_id}" for photo_id in photo_ids]:
        files += list(thumbs_dir(owner_id).glob(f"{name}-*.jpg"))  # cached thumbnails, any size
    return files


def _unlink(files: list[Path]) -> None:
    for path in files:
        path.unlink(missing_ok=True)
    purge_deleted()


def delete_photo(owner_id: int, photo_id: int) -> None:
    """Delete a photo: its faces leave the database and the index together, then its file leaves the disk."""
    with session_scope() as session:
        _own_photo(session, owner_id, photo_id)
        files = _remove_photos(session, owner_id, [photo_id])
    _unlink(files)


def delete_album(owner_id: int, album_id: int, delete_photos: bool = False) -> None:
    """Delete an album. With `delete_photos`, its photos that are in no other album go too (faces, index, files);
    without it they stay in the library, under "All photos"."""
    with session_scope() as session:
        _own_album(session, owner_id, album_id)
        files: list[Path] = []
        if delete_photos:
            in_album = select(album_photos.c.photo_id).where(album_photos.c.album_id == album_id)
            elsewhere = select(album_photos.c.photo_id).where(album_photos.c.album_id != album_id)
            doomed = list(session.scalars(
                select(Photo.id).where(Photo.owner_id == owner_id, Photo.id.in_(in_album), Photo.id.not_in(elsewhere))
            ))
            files = _remove_photos(session, owner_id, doomed)
        session.execute(delete(Album).where(Album.id == album_id, Album.owner_id == owner_id))
    _unlink(files)

