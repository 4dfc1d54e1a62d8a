"""The face index, both backends (in process, Milvus Lite): exact answers, ownership, one model at a time,
and never out of step with the database, even when a failure strikes between the database and the index."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import delete, select

from core.accounts.users import register
from core.config import get_settings
from core.storage.database import session_scope
from core.storage.studio_models import Album, Face, Person, Photo
from core.studio import cli, index, index_milvus_params, library, people
from core.studio.index_memory import MemoryIndex
from core.studio.index_milvus_params import MilvusSettingsError
from core.studio.index_state import current_mark

PASSWORD = "correct horse battery staple 42"
DIM = 128


@pytest.fixture(params=["memory", "milvus"])
def backend(request: pytest.FixtureRequest, site: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh site whose studio index is the given backend (Milvus Lite in a file of the test's data dir)."""
    monkeypatch.setenv("WEBTUBE_FACE_INDEX", request.param)
    monkeypatch.setenv("WEBTUBE_MILVUS_URI", str(site / "faces-milvus.db"))
    get_settings.cache_clear()
    yield request.param
    index.close_index()


def _owner(name: str) -> int:
    return register(name, f"{name.lower()}@example.com", PASSWORD, PASSWORD).id


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    vectors = rng.standard_normal((n, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _photo_with_faces(owner_id: int, vectors: np.ndarray, embedder: str = "dlib", album: str | None = None,
                      person_id: int | None = None) -> tuple[int, list[int]]:
    """One photo holding these faces, written as the importer writes them, then the index told (after commit)."""
    with session_scope() as session:
        photo = Photo(owner_id=owner_id, sha256=f"{np.random.default_rng().integers(2**62):064x}",
                      original_name="p.jpg", origin="/photos/p.jpg", status="processed", width=100, height=100)
        if album is not None:
            photo.albums.append(session.scalar(select(Album).where(Album.owner_id == owner_id, Album.name == album))
                                or Album(owner_id=owner_id, name=album, source="upload"))
        session.add(photo)
        session.flush()
        faces = [Face(photo_id=photo.id, owner_id=owner_id, x1=0, y1=0, x2=10, y2=10, score=0.99, landmarks="[]",
                      quality_ok=True, embedder=embedder, dim=DIM, embedding=v.astype("<f4").tobytes(),
                      person_id=person_id) for v in vectors]
        session.add_all(faces)
        session.flush()
        ids = [face.id for face in faces]
    index.add_faces(owner_id, embedder, ids, vectors)
    return photo.id, ids


def _library(owner_id: int, rng: np.random.Generator, photos: int = 60, per_photo: int = 3) -> dict[int, np.ndarray]:
    vectors: dict[int, np.ndarray] = {}
    for _ in range(photos):
        batch = _unit(rng, per_photo)
        _, ids = _photo_with_faces(owner_id, batch)
        vectors.update(zip(ids, batch, strict=True))
    return vectors


def _brute_force(vectors: dict[int, np.ndarray], query: np.ndarray, k: int) -> list[tuple[int, float]]:
    ids = np.array(list(vectors))
    distances = np.linalg.norm(np.stack(list(vectors.values())).astype(np.float64) - query.astype(np.float64), axis=1)
    order = np.lexsort((ids, distances))[:k]
    return [(int(ids[i]), float(distances[i])) for i in order]


def _assert_same(found: list[tuple[int, float]], expected: list[tuple[int, float]]) -> None:
    assert [face_id for face_id, _ in found] == [face_id for face_id, _ in expected]
    np.testing.assert_allclose([d for _, d in found], [d for _, d in expected], rtol=0, atol=1e-5)


def test_search_is_exact_against_brute_force(backend: str) -> None:
    owner = _owner("Ada")
    rng = np.random.default_rng(1)
    vectors = _library(owner, rng)
    for query in [*_unit(rng, 4), vectors[next(iter(vectors))]]:
        _assert_same(index.search(owner, "dlib", query, top_k=10), _brute_force(vectors, query, 10))
    query = _unit(rng, 1)[0]
    expected = _brute_force(vectors, query, 180)
    limit = expected[20][1]
    found = index.search(owner, "dlib", query, top_k=100, max_distance=limit)
    _assert_same(found, [hit for hit in expected if hit[1] <= limit])
    assert len(found) == 21


def test_another_owners_faces_are_never_returned(backend: str) -> None:
    ada, bob = _owner("Ada"), _owner("Bob")
    rng = np.random.default_rng(2)
    ada_vectors = _library(ada, rng, photos=10)
    query = _unit(rng, 1)[0]
    _, bob_ids = _photo_with_faces(bob, np.stack([query, query]))  # Bob's faces are the exact query
    found = index.search(ada, "dlib", query, top_k=50)
    assert found and not set(bob_ids) & {face_id for face_id, _ in found}
    _assert_same(found, _brute_force(ada_vectors, query, 50))
    assert {face_id for face_id, _ in index.search(bob, "dlib", query, top_k=50)} == set(bob_ids)
    index.remove_faces(bob, list(ada_vectors))  # Bob naming Ada's ids removes nothing of hers
    assert len(index.search(ada, "dlib", query, top_k=50)) == 30


def test_vectors_of_another_model_are_never_compared(backend: str) -> None:
    owner = _owner("Ada")
    rng = np.random.default_rng(3)
    dlib_vectors = _library(owner, rng, photos=5)
    query = _unit(rng, 1)[0]
    _, sface_ids = _photo_with_faces(owner, np.stack([query]), embedder="sface")
    found = index.search(owner, "dlib", query, top_k=50)
    assert {face_id for face_id, _ in found} == set(dlib_vectors)
    assert index.search(owner, "sface", query, top_k=50) == [(sface_ids[0], pytest.approx(0.0, abs=1e-6))]
    assert index.search(owner, "facenet", query, top_k=50) == []


def test_candidates_limit_the_search(backend: str) -> None:
    owner = _owner("Ada")
    rng = np.random.default_rng(4)
    vectors = _library(owner, rng, photos=20)
    chosen = sorted(vectors)[::7]
    query = _unit(rng, 1)[0]
    found = index.search(owner, "dlib", query, top_k=5, candidates=chosen)
    _assert_same(found, _brute_force({i: vectors[i] for i in chosen}, query, 5))
    assert index.search(owner, "dlib", query, top_k=5, candidates=[]) == []


def test_removed_faces_leave_and_rebuild_restores(backend: str) -> None:
    owner = _owner("Ada")
    rng = np.random.default_rng(5)
    vectors = _library(owner, rng, photos=20)
    query = _unit(rng, 1)[0]
    doomed = [face_id for face_id, _ in index.search(owner, "dlib", query, top_k=4)]
    with session_scope() as session:
        photo_ids = set(session.scalars(select(Face.photo_id).where(Face.id.in_(doomed))))
    for photo_id in photo_ids:
        library.delete_photo(owner, photo_id)
    with session_scope() as session:
        left = set(session.scalars(select(Face.id).where(Face.owner_id == owner)))
    remaining = {i: v for i, v in vectors.items() if i in left}
    assert len(remaining) == len(vectors) - 3 * len(photo_ids)
    _assert_same(index.search(owner, "dlib", query, top_k=10), _brute_force(remaining, query, 10))
    assert index.rebuild() == len(remaining)
    assert index.get_index().held(owner, "dlib") == len(remaining)
    _assert_same(index.search(owner, "dlib", query, top_k=10), _brute_force(remaining, query, 10))


def _fail_after_index_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """The index does its part, then the operation fails before the database commits."""
    backend = index.get_index()
    removing = backend.remove

    def remove_then_fail(owner_id: int, face_ids: list[int]) -> None:
        removing(owner_id, face_ids)
        raise RuntimeError("injected: the server died between the index and the database")

    monkeypatch.setattr(backend, "remove", remove_then_fail)


def test_a_failure_after_the_index_step_rolls_back_and_the_index_catches_up(
    backend: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    owner = _owner("Ada")
    rng = np.random.default_rng(6)
    vectors = _library(owner, rng, photos=10)
    target = next(iter(vectors))
    photo_id = _photo_of(target)
    assert index.search(owner, "dlib", vectors[target], top_k=1)[0][0] == target
    with monkeypatch.context() as patch:
        _fail_after_index_step(patch)
        with pytest.raises(RuntimeError, match="injected"):
            library.delete_photo(owner, photo_id)
    assert _photo_of(target) == photo_id  # the database rolled back: the photo and its faces are still there
    assert index.get_index().held(owner, "dlib") == len(vectors) - 3  # the copy had already let them go ...
    found = index.search(owner, "dlib", vectors[target], top_k=len(vectors))  # ... and the next search repairs it
    _assert_same(found, _brute_force(vectors, vectors[target], len(vectors)))


def test_a_failure_after_the_database_step_never_returns_deleted_faces(
    backend: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    owner = _owner("Ada")
    rng = np.random.default_rng(7)
    vectors = _library(owner, rng, photos=10)
    target = next(iter(vectors))
    index.search(owner, "dlib", vectors[target], top_k=1)
    monkeypatch.setattr(index.get_index(), "remove", lambda *_: (_ for _ in ()).throw(RuntimeError("injected")))
    with session_scope() as session:  # the database step commits; the process dies before telling the index
        session.execute(delete(Photo).where(Photo.id == _photo_of(target)))
    remaining = {i: v for i, v in vectors.items() if _photo_of(i) is not None}
    assert len(remaining) == len(vectors) - 3
    assert index.get_index().held(owner, "dlib") == len(vectors)  # stale until asked ...
    found = index.search(owner, "dlib", vectors[target], top_k=len(vectors))  # ... never answers stale
    _assert_same(found, _brute_force(remaining, vectors[target], len(vectors)))
    assert target not in {face_id for face_id, _ in found}


def test_deleting_a_person_or_an_album_keeps_the_index_in_step(backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    owner = _owner("Ada")
    rng = np.random.default_rng(8)
    person = people.create_person(owner, "Grace")
    named = _unit(rng, 4)
    _, named_ids = _photo_with_faces(owner, named, person_id=person.id)
    in_album = _unit(rng, 3)
    _, album_ids = _photo_with_faces(owner, in_album, album="Holidays")
    others = _library(owner, rng, photos=5)
    query = named[0]
    assert index.search(owner, "dlib", query, top_k=1)[0][0] == named_ids[0]
    with monkeypatch.context() as patch:
        _fail_after_index_step(patch)
        with pytest.raises(RuntimeError, match="injected"):
            people.delete_person(owner, person.id)
    assert index.search(owner, "dlib", query, top_k=1)[0][0] == named_ids[0]  # rolled back: still found
    people.delete_person(owner, person.id)
    with session_scope() as session:
        album_id = session.scalar(select(Album.id).where(Album.owner_id == owner, Album.name == "Holidays"))
        assert session.get(Person, person.id) is None
    library.delete_album(owner, album_id, delete_photos=True)
    found = {face_id for face_id, _ in index.search(owner, "dlib", query, top_k=100)}
    assert found == set(others)
    assert not found & set(named_ids + album_ids)


def test_another_process_changes_are_seen(site: Path) -> None:
    """Two in-process indexes over one database stand for two app processes: each sees the other's changes."""
    owner = _owner("Ada")
    rng = np.random.default_rng(9)
    vectors = _library(owner, rng, photos=5)
    here, there = MemoryIndex(), MemoryIndex()
    query = _unit(rng, 1)[0]
    assert len(there.search(owner, "dlib", query, 100, None)) == 15
    more = _library(owner, rng, photos=2)  # written (and told to this process's index) elsewhere
    vectors.update(more)
    mark = current_mark(owner, "dlib")
    _assert_same(there.search(owner, "dlib", query, 100, None), _brute_force(vectors, query, 100))
    assert there._shelves[(owner, "dlib")].expected == mark  # caught up by reading only the new faces
    library.delete_photo(owner, _photo_of(next(iter(more))))
    remaining = {i: v for i, v in vectors.items() if _photo_of(i) is not None}
    _assert_same(there.search(owner, "dlib", query, 100, None), _brute_force(remaining, query, 100))
    _assert_same(here.search(owner, "dlib", query, 100, None), _brute_force(remaining, query, 100))


def _photo_of(face_id: int) -> int | None:
    with session_scope() as session:
        return session.scalar(select(Face.photo_id).where(Face.id == face_id))


def test_ivf_pq_is_refused_on_milvus_lite_with_a_clear_message(
    site: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    """Milvus Lite has no product quantisation: asked for IVF_PQ, the index refuses before writing anything."""
    owner = _owner("Ada")
    _photo_with_faces(owner, _unit(np.random.default_rng(10), 3))  # the default in-process index: fine
    monkeypatch.setenv("WEBTUBE_FACE_INDEX", "milvus")
    monkeypatch.setenv("WEBTUBE_MILVUS_URI", str(site / "faces-milvus.db"))
    monkeypatch.setenv("WEBTUBE_MILVUS_INDEX", "IVF_PQ")
    get_settings.cache_clear()
    assert cli.main(["reindex"]) == 2
    message = capsys.readouterr().err
    assert "IVF_PQ needs a Milvus server" in message and "WEBTUBE_MILVUS_URI=http://" in message
    with pytest.raises(MilvusSettingsError, match="Milvus Lite"):
        index.search(owner, "dlib", _unit(np.random.default_rng(11), 1)[0])
    assert not (site / "faces-milvus.db").exists()
    monkeypatch.setenv("WEBTUBE_MILVUS_PQ_M", "24")  # on a server too, a sub-vector count must divide the size
    get_settings.cache_clear()
    with pytest.raises(MilvusSettingsError, match="must divide the embedding size"):
        index_milvus_params.build(get_settings(), DIM)


def test_the_coded_first_pass_stays_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    """Large shelves scan 8-bit codes first (index_codes.py); the answer must still equal brute force,
    for spread-out faces and for tight groups of one person, after appends and after removals."""
    from core.studio import index_memory
    from core.studio.index_memory import _Shelf
    from core.studio.index_state import EMPTY

    monkeypatch.setattr(index_memory, "CODED_MIN", 1)
    rng = np.random.default_rng(12)
    centres = _unit(rng, 40)
    grouped = centres[rng.integers(0, 40, 3000)] + 0.02 * rng.standard_normal((3000, DIM)).astype(np.float32)
    vectors = np.concatenate([_unit(rng, 3000), grouped.astype(np.float32)])
    ids = np.arange(1, len(vectors) + 1, dtype=np.int64)
    shelf = _Shelf.of(EMPTY, ids, vectors)
    everything = dict(zip(ids.tolist(), vectors, strict=True))
    for query in [*_unit(rng, 3), centres[0], vectors[4500]]:
        _assert_same(shelf.nearest(query, 50, None), _brute_force(everything, query, 50))
    assert shelf.coded is not None and shelf.coded.size == len(ids)
    more = _unit(rng, 10)
    shelf.append(np.arange(len(ids) + 1, len(ids) + 11, dtype=np.int64), more)
    everything.update(zip(range(len(ids) + 1, len(ids) + 11), more, strict=True))
    assert shelf.coded is not None and shelf.coded.size == len(everything)  # extended, not coded again
    _assert_same(shelf.nearest(more[0], 20, None), _brute_force(everything, more[0], 20))
    shelf.drop(np.array([len(ids) + 1, 7], dtype=np.int64))
    del everything[len(ids) + 1], everything[7]
    assert shelf.coded is None  # rows moved
    _assert_same(shelf.nearest(more[0], 20, None), _brute_force(everything, more[0], 20))
