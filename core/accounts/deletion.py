"""Deleting an account: everything of theirs, from every table, every index and the disk.

One function for "Delete my account" and the admin screen's delete, so the two can never disagree.
The rows go in one transaction: the account row is deleted through the ORM and its videos, face
samples, sessions, reset links, notices, studio library (albums, photos, faces, people) and jobs
follow by ON DELETE CASCADE; failed sign-ins (kept by email) and the studio's index check rows (kept
by owner, no foreign key) are deleted beside it. The search index is told inside the transaction,
as the library's own deletes do. The account's folders (studio photos and thumbnails, face
snapshots, exports) are moved aside inside the transaction and moved back if it fails, so rows
and files never disagree; they are removed for good after the commit, with the avatar.

What is shared is not theirs and stays: the download cache and the thumbnail cache are keyed by
the video's address and serve everyone.
"""

from __future__ import annotations

import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from core.accounts.users import UnknownUser
from core.config import get_settings
from core.storage.database import purge_deleted, session_scope
from core.storage.models import FaceSample, LoginFailure, User, Video
from core.storage.studio_models import Album, Face, IndexState, Job, Person, Photo

FOLDERS = ("studio", "faces", "exports")  # each holds one folder per account: <data dir>/<name>/<user id>/


@dataclass(frozen=True)
class AccountContents:
    """What an account holds, said before deleting it (and what went, after)."""

    email: str
    videos: tuple[str, ...]  # titles of the videos shared by the account: deleted with it
    face_samples: int
    photos: int
    people: int
    albums: int
    jobs: int


def _count(session: Session, column: object, *where: object) -> int:
    return int(session.scalar(select(func.count(column)).where(*where)) or 0)


def _contents(session: Session, user: User) -> AccountContents:
    uid = user.id
    titles = session.scalars(select(Video.title).where(Video.owner_id == uid).order_by(Video.created_at)).all()
    # each sample is stored once per installed face model: the model holding most rows says how many there are
    per_model = session.scalars(
        select(func.count(FaceSample.id)).where(FaceSample.user_id == uid).group_by(FaceSample.embedder)
    ).all()
    return AccountContents(
        email=user.email,
        videos=tuple(titles),
        face_samples=max(per_model, default=0),
        photos=_count(session, Photo.id, Photo.owner_id == uid),
        people=_count(session, Person.id, Person.owner_id == uid),
        albums=_count(session, Album.id, Album.owner_id == uid),
        jobs=_count(session, Job.id, Job.owner_id == uid),
    )


def account_contents(user_id: int) -> AccountContents:
    """What deleting `user_id` would delete, for the confirmation."""
    with session_scope() as session:
        user = session.get(User, user_id)
        if user is None:
            raise UnknownUser("This account no longer exists.")
        return _contents(session, user)


def _move_aside(user_id: int, aside: Path) -> list[tuple[Path, Path]]:
    """Move the account's folders under `aside`; returns (original, moved) pairs to undo or finish."""
    moved = []
    for name in FOLDERS:
        folder = get_settings().data_dir / name / str(user_id)
        if folder.is_dir():
            aside.mkdir(parents=True, exist_ok=True)
            target = aside / name
            os.replace(folder, target)
            moved.append((folder, target))
    return moved


def delete_account(user_id: int) -> AccountContents:
    """Delete the account and everything of it (see the module's docstring); returns what went."""
    data_dir = get_settings().data_dir
    aside = data_dir / f".deleting-account-{user_id}-{secrets.token_hex(4)}"
    moved: list[tuple[Path, Path]] = []
    try:
        with session_scope() as session:
            user = session.get(User, user_id)
            if user is None:
                raise UnknownUser("This account no longer exists.")
            contents = _contents(session, user)
            avatar = user.avatar_path
            face_ids = list(session.scalars(select(Face.id).where(Face.owner_id == user_id)))
            session.execute(delete(LoginFailure).where(LoginFailure.email == user.email))
            session.delete(user)  # the ORM delete: cascades, and the video analyses' files are noted for removal
            session.flush()
            session.execute(delete(IndexState).where(IndexState.owner_id == user_id))
            if face_ids:
                from core.studio import index  # only when there are faces: the index may be a Milvus connection

                index.remove_faces(user_id, face_ids)  # raises -> the transaction rolls back, nothing out of step
            moved = _move_aside(user_id, aside)
    except BaseException:
        for original, target in reversed(moved):
            os.replace(target, original)
        shutil.rmtree(aside, ignore_errors=True)
        raise
    shutil.rmtree(aside, ignore_errors=True)
    if avatar:
        (data_dir / avatar).unlink(missing_ok=True)
    purge_deleted()  # the embeddings leave the write-ahead log too
    return contents
