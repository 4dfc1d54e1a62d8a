"""Deleting faces for good, from every place they are kept: rows, search index, cached thumbnails, the WAL.

Face data is personal data, so a face that leaves (its person deleted, or the owner deleting it) leaves all
of them together. The rows go in the caller's transaction (their "not this person" marks follow by cascade);
the index is told inside it, so a failure there rolls the rows back; migration 0004's triggers move the
index's check row with the rows, so an index copy that missed the change rebuilds before it answers again.
The thumbnails and SQLite's write-ahead log are cleared once the transaction has committed.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from core.storage.database import purge_deleted
from core.storage.studio_models import Face, Person
from core.studio import index, library


def drop_faces(session: Session, owner_id: int, face_ids: Iterable[int]) -> list[Path]:
    """Delete the owner's faces among `face_ids` in this transaction and tell the index; returns their
    cached thumbnails, for `forget_files` to unlink after the commit."""
    wanted = list(set(face_ids))
    ids = sorted(session.scalars(select(Face.id).where(Face.owner_id == owner_id, Face.id.in_(wanted))))
    if not ids:
        return []
    session.execute(update(Person).where(Person.owner_id == owner_id, Person.cover_face_id.in_(ids))
                    .values(cover_face_id=None))
    session.execute(delete(Face).where(Face.id.in_(ids)))
    session.flush()
    index.remove_faces(owner_id, ids)  # raises -> the caller's transaction rolls back, nothing is out of step
    folder = library.thumbs_dir(owner_id)
    return [path for face_id in ids for path in folder.glob(f"f{face_id}-*.jpg")]


def forget_files(files: Iterable[Path]) -> None:
    """After the commit: the thumbnails leave the disk and the deleted rows leave SQLite's write-ahead log."""
    for path in files:
        path.unlink(missing_ok=True)
    purge_deleted()
