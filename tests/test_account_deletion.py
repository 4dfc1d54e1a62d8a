"""Deleting an account leaves nothing of it: every table is searched for its rows, the data dir for its files.

A real account with everything a person can have: shared videos (probed from the local media server), an
avatar, face samples with kept snapshots, sessions, failed sign-ins, a reset link, a notice, a studio
library imported through the real importer (photos, faces, a person, albums, the import job, the search
index's check rows), a face export. A second account's data must all stay.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import inspect, select, text

from core.accounts import resets, sessions
from core.accounts.api_keys import create_key
from core.accounts.deletion import account_contents, delete_account
from core.accounts.notices import notices_of
from core.accounts.profiles import set_avatar
from core.accounts.users import UnknownUser, register, sign_in
from core.face_signin.enrolment import enrol_photo
from core.storage.database import get_engine, session_scope
from core.storage.studio_models import Face
from core.studio import index
from core.studio.export import export_faces
from core.studio.importer import import_paths
from core.studio.people import assign_face, create_person
from core.videos.sharing import share_video
from tests.support.media_server import MediaServer

pytestmark = pytest.mark.both_databases

PASSWORD = "a long enough password"
OWNER_COLUMNS = ("user_id", "owner_id")


def _rows_of(user_id: int, email: str) -> dict[str, int]:
    """Every table holding a row that names the account (by id in an owner column, or by email)."""
    engine = get_engine()
    found: dict[str, int] = {}
    with engine.connect() as connection:
        for table in inspect(engine).get_table_names():
            columns = {c["name"] for c in inspect(engine).get_columns(table)}
            conditions = [f"{c} = :uid" for c in OWNER_COLUMNS if c in columns]
            if table == "users":
                conditions.append("id = :uid")
            if "email" in columns:
                conditions.append("email = :email")
            if not conditions:
                continue
            count = connection.execute(
                text(f"SELECT COUNT(*) FROM {table} WHERE {' OR '.join(conditions)}"), {"uid": user_id, "email": email}
            ).scalar_one()
            if count:
                found[table] = count
    return found


def _files_of(data_dir: Path, user_id: int) -> list[Path]:
    """Files under the data dir that belong to the account: in a folder named by its id, or an avatar of it."""
    mine = []
    for path in data_dir.rglob("*"):
        relative = path.relative_to(data_dir).parts
        if path.is_file() and (str(user_id) in relative[1:2] or (relative[:1] == ("avatars",)
                               and path.name.startswith(f"{user_id}-"))):
            mine.append(path)
    return mine


def _fill(user_id: int, email: str, faces_dir: Path, photos: Path, media_server: MediaServer) -> None:
    share_video(user_id, media_server.url("clip.mp4"), title="my clip")
    share_video(user_id, media_server.url("watch.html"), title="a page")
    set_avatar(user_id, (faces_dir / "people/obama/obama_1.jpg").read_bytes())
    enrol_photo(user_id, (faces_dir / "people/obama/obama_2.jpg").read_bytes(), keep_image=True)
    sessions.create(user_id, "password")
    sessions.create(user_id, "face")
    with pytest.raises(Exception, match="Wrong email or password"):
        sign_in(email, "not my password at all")
    resets.create_token(user_id)
    summary = import_paths(user_id, [photos], "Holiday", "folder")
    assert summary.photos == 3 and summary.failures == 0
    with session_scope() as session:
        face_id = session.scalars(select(Face.id).where(Face.owner_id == user_id)).first()
    person = create_person(user_id, "Barack")
    assign_face(user_id, face_id, person.id)
    export_faces(user_id, "csv", embeddings=True)
    create_key(user_id, "a program", "read write")


def test_deleting_an_account_leaves_no_row_and_no_file_of_it(
    site: Path, faces_dir: Path, media_server: MediaServer, tmp_path: Path
) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("obama_1.jpg", "obama_3.jpg", "obama_4.jpg"):
        (photos / name).write_bytes((faces_dir / "people/obama" / name).read_bytes())
    ann = register("Ann", "ann@example.com", PASSWORD, PASSWORD)
    bob = register("Bob", "bob@example.com", PASSWORD, PASSWORD)
    _fill(ann.id, ann.email, faces_dir, photos, media_server)
    share_video(bob.id, media_server.url("clip.mp4"), "bob's clip")
    set_avatar(bob.id, (faces_dir / "people/biden/biden_1.jpg").read_bytes())
    enrol_photo(bob.id, (faces_dir / "people/biden/biden_2.jpg").read_bytes(), keep_image=True)
    import_paths(bob.id, [faces_dir / "people/biden"], "Bob's", "folder")
    before_bob = (_rows_of(bob.id, bob.email), sorted(_files_of(site, bob.id)))

    rows = _rows_of(ann.id, ann.email)
    for table in ("users", "videos", "face_samples", "sessions", "login_failures", "password_resets",
                  "studio_photos", "studio_faces", "studio_people", "studio_albums", "jobs", "studio_index_state",
                  "api_keys"):
        assert rows.get(table), f"the test account has no {table} rows to delete: {rows}"
    assert {p.relative_to(site).parts[0] for p in _files_of(site, ann.id)} >= {"avatars", "faces", "studio", "exports"}
    with session_scope() as session:
        ann_faces = list(session.scalars(select(Face.id).where(Face.owner_id == ann.id)))
    found = index.search(ann.id, "dlib", np.ones(128, dtype=np.float32), top_k=50)
    assert {face_id for face_id, _ in found} == set(ann_faces)  # the index holds them before

    said = account_contents(ann.id)
    assert said.videos == ("my clip", "a page") and said.face_samples == 1 and said.photos == 3
    assert said.people == 1 and said.albums == 1 and said.jobs >= 1  # the import, and any jobs it queued
    assert delete_account(ann.id) == said

    assert _rows_of(ann.id, ann.email) == {}
    assert _files_of(site, ann.id) == []
    assert not list(site.glob(".deleting-*"))
    assert index.search(ann.id, "dlib", np.ones(128, dtype=np.float32), top_k=50) == []
    assert (_rows_of(bob.id, bob.email), sorted(_files_of(site, bob.id))) == before_bob
    with pytest.raises(UnknownUser):
        delete_account(ann.id)
    assert notices_of(ann.id) == []
