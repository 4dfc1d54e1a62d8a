"""Switching WEBTUBE_EMBEDDER on a studio library: a background job re-embeds the kept photos.

The library is imported with dlib; after the switch to SFace the search compares SFace vectors only
(the dlib faces are left out until re-embedded), the re-embedding job gives every face an SFace vector
on its kept box, names survive, and search by sample finds the person again with the new model.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from core.config import get_settings
from core.faces.engine import get_engine
from core.faces.images import load_image
from core.jobs import queue
from core.storage.database import session_scope
from core.storage.studio_models import Face
from core.studio import cli, library, people, reembed, search
from core.studio.importer import import_paths
from core.studio.owners import resolve_owner
from tests.support.paths import FACES_DIR

OBAMA = sorted((FACES_DIR / "people" / "obama").glob("*.jpg"))
BIDEN = sorted((FACES_DIR / "people" / "biden").glob("*.jpg"))


def _use(monkeypatch: pytest.MonkeyPatch, embedder: str) -> None:
    monkeypatch.setenv("WEBTUBE_EMBEDDER", embedder)
    get_settings.cache_clear()


def _models(owner_id: int) -> dict[str, int]:
    with session_scope() as session:
        rows = session.scalars(select(Face.embedder).where(Face.owner_id == owner_id)).all()
    return {model: rows.count(model) for model in set(rows)}


def _wait_done(owner_id: int, job_id: int) -> None:
    deadline = time.monotonic() + 180
    while (info := queue.job_info(owner_id, job_id)).status in ("queued", "running"):
        assert time.monotonic() < deadline, info
        time.sleep(0.2)
    assert info.status == "done", info


@pytest.fixture
def library_in_dlib(site: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, int]:
    _use(monkeypatch, "dlib")
    owner_id = resolve_owner(None)
    import_paths(owner_id, OBAMA[1:] + BIDEN, "People")
    obama_faces = [f for p in library.list_photos(owner_id).items if p.original_name.startswith("obama")
                   for f in library.photo_detail(owner_id, p.id).faces]
    person = people.create_person(owner_id, "Barack")
    for face in obama_faces:
        people.assign_face(owner_id, face.id, person.id)
    return owner_id, person.id


def test_after_a_switch_search_ignores_the_old_model_until_a_job_re_embeds_the_library(
    library_in_dlib: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    owner_id, person_id = library_in_dlib
    faces = sum(_models(owner_id).values())
    sample = OBAMA[0].read_bytes()
    assert {m.face.person_id for m in search.search_by_sample(owner_id, sample).matches} == {person_id}

    _use(monkeypatch, "sface")
    assert search.search_by_sample(owner_id, sample).matches == []  # dlib vectors are never compared with SFace's
    assert reembed.stale_faces(owner_id) == faces

    (job_id,) = reembed.queue_reembedding()
    assert reembed.queue_reembedding() == []  # one job per library and model
    _wait_done(owner_id, job_id)

    assert _models(owner_id) == {"sface": faces} and reembed.stale_faces(owner_id) == 0
    assert queue.job_result(owner_id, job_id) == {"embedder": "sface", "reembedded": faces, "unreadable": 0}
    found = search.search_by_sample(owner_id, sample)
    assert found.embedder == "sface" and {m.face.person_id for m in found.matches} == {person_id}
    assert len(found.matches) == len(OBAMA) - 1 and people.get_person(owner_id, person_id).face_count == len(OBAMA) - 1

    # The stored vector is exactly what the SFace pipeline gives for that face of the kept photo.
    with session_scope() as session:
        face = session.scalars(select(Face).where(Face.person_id == person_id).order_by(Face.id)).first()
        stored = np.frombuffer(face.embedding, dtype="<f4")
        photo = library.photo_file(owner_id, face.photo_id)
    fresh = max(get_engine().analyse(load_image(photo)), key=lambda f: f.detection.area).embedding
    assert float(np.dot(stored, fresh) / np.linalg.norm(stored) / np.linalg.norm(fresh)) > 0.99
    assert reembed.queue_reembedding() == []  # nothing of another model is left


def test_a_face_whose_photo_is_gone_is_counted_and_not_queued_forever(
    library_in_dlib: tuple[int, int], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    owner_id, _ = library_in_dlib
    lost = library.list_photos(owner_id).items[0]
    library.photo_file(owner_id, lost.id).unlink()
    _use(monkeypatch, "sface")

    assert cli.main(["reembed"]) == 0
    out = json.loads(capsys.readouterr().out)
    (job,) = out["jobs"]
    assert job["status"] == "done" and job["unreadable"] == lost.face_count >= 1
    total = sum(_models(owner_id).values())
    assert out["stale_faces"] == lost.face_count and job["reembedded"] == total - lost.face_count
    assert reembed.queue_reembedding() == []  # the same faces, still without a file: not tried again

    _use(monkeypatch, "dlib")  # and back: the re-embedded faces are SFace now, so dlib needs its own job
    assert reembed.stale_faces(owner_id) == job["reembedded"] and len(reembed.queue_reembedding(wake=False)) == 1


def test_the_search_page_says_faces_are_being_re_embedded(
    library_in_dlib: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.app_driver import open_app, texts

    owner_id, _ = library_in_dlib
    monkeypatch.setenv("WEBTUBE_JOB_THREADS", "0")
    _use(monkeypatch, "sface")
    (notice,) = texts(open_app(owner_id, "pages/studio_search.py"), "info")[:1]
    assert notice.startswith(f"{sum(_models(owner_id).values())} faces of your library were found with another")
    assert "(sface)" in notice and "Studio › History" in notice
