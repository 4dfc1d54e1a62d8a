"""The Milvus backend against a real Milvus server (the standalone server of the `milvus` package), started here,
reached over loopback at http://127.0.0.1:<port>, and stopped at the end (each start bounded to 3 minutes by
the package's wait). HNSW and IVF_PQ indexes, owners kept apart, and a server stopped in the middle of an
import: the photos are kept, the index is marked stale, and `studio reindex` brings back the exact answers."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from milvus import MilvusServer
from pymilvus import MilvusClient
from sqlalchemy import select

from core.config import get_settings
from core.storage.database import session_scope
from core.storage.studio_models import Face
from core.studio import cli, index, library
from core.studio.importer import import_paths
from core.studio.index_milvus import IndexUnavailable, MilvusIndex
from tests.support.studio_photos import PEOPLE
from tests.test_studio_index import _assert_same, _brute_force, _library, _owner, _photo_with_faces, _unit

START_MS = 180_000


def _uri(server: MilvusServer) -> str:
    return f"http://127.0.0.1:{server.listen_port}"


def _rebindable_port_check(server: MilvusServer) -> None:
    """The package checks a port is free by binding it without SO_REUSEADDR, so the port a stopped server just
    closed reads as taken for a minute (its connections in TIME_WAIT), though the server itself rebinds it at once
    (Go listens with SO_REUSEADDR). The check binds as the server does, so a restart comes back on its port."""

    def try_bind_port(port: int) -> socket.socket | None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen()
            return sock
        except OSError:
            sock.close()
            return None

    server.config.try_bind_port = try_bind_port


@pytest.fixture(scope="module")
def milvus_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MilvusServer]:
    server = MilvusServer(wait_for_started=False)
    server.set_base_dir(str(tmp_path_factory.mktemp("milvus-server")))
    try:
        server.start()
        server.wait_started(timeout=START_MS)  # milliseconds
        server.config.update(proxy_port=server.listen_port)  # a restart listens where the clients look
        _rebindable_port_check(server)
        yield server
    finally:
        server.stop()


@pytest.fixture
def on_server(milvus_server: MilvusServer, site: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MilvusServer]:
    monkeypatch.setenv("WEBTUBE_FACE_INDEX", "milvus")
    monkeypatch.setenv("WEBTUBE_MILVUS_URI", _uri(milvus_server))
    monkeypatch.setenv("WEBTUBE_MILVUS_INDEX", "HNSW")
    get_settings.cache_clear()
    yield milvus_server
    index.close_index()
    if milvus_server.running:  # the server outlives the test's database: no collection (nor index type) stays
        client = MilvusClient(_uri(milvus_server), timeout=30)
        for name in client.list_collections():
            client.drop_collection(name)
        client.close()


def test_search_removal_and_repair_on_a_milvus_server(on_server: MilvusServer, monkeypatch: pytest.MonkeyPatch) -> None:
    ada, bob = _owner("Ada"), _owner("Bob")
    rng = np.random.default_rng(11)
    vectors = _library(ada, rng, photos=40)
    bob_vectors = _library(bob, rng, photos=5)
    assert isinstance(index.get_index(), MilvusIndex)
    for query in _unit(rng, 3):
        _assert_same(index.search(ada, "dlib", query, top_k=10), _brute_force(vectors, query, 10))
    for query in bob_vectors.values():  # Bob's own faces as queries: Ada's search never shows one of them
        assert not set(bob_vectors) & {face_id for face_id, _ in index.search(ada, "dlib", query, top_k=50)}

    target = next(iter(vectors))
    with session_scope() as session:
        photo_id = session.scalar(select(Face.photo_id).where(Face.id == target))
    removing = index.get_index().remove

    def remove_then_fail(owner_id: int, face_ids: list[int]) -> None:
        removing(owner_id, face_ids)
        raise RuntimeError("injected")

    with monkeypatch.context() as patch:
        patch.setattr(index.get_index(), "remove", remove_then_fail)
        with pytest.raises(RuntimeError, match="injected"):
            library.delete_photo(ada, photo_id)
    assert index.search(ada, "dlib", vectors[target], top_k=1)[0][0] == target  # rolled back, and put back
    library.delete_photo(ada, photo_id)
    with session_scope() as session:
        left = set(session.scalars(select(Face.id).where(Face.owner_id == ada)))
    remaining = {i: v for i, v in vectors.items() if i in left}
    _assert_same(index.search(ada, "dlib", vectors[target], top_k=20), _brute_force(remaining, vectors[target], 20))
    assert index.rebuild() == len(remaining) + len(bob_vectors)
    assert index.get_index().held(ada, "dlib") == len(remaining)


def test_ivf_pq_on_a_server_is_reranked_exactly_and_never_shows_another_owners_face(
    on_server: MilvusServer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WEBTUBE_MILVUS_INDEX", "IVF_PQ")
    monkeypatch.setenv("WEBTUBE_MILVUS_IVF_NLIST", "16")
    monkeypatch.setenv("WEBTUBE_MILVUS_IVF_NPROBE", "16")
    get_settings.cache_clear()
    ada, bob = _owner("Ada"), _owner("Bob")
    rng = np.random.default_rng(12)
    query = _unit(rng, 1)[0]
    near = query + 0.04 * rng.standard_normal((12, query.shape[0])).astype(np.float32)
    near /= np.linalg.norm(near, axis=1, keepdims=True)  # twelve faces close to the query, in no order
    ada_faces = np.concatenate([_unit(rng, 1100), near])
    _, ada_ids = _photo_with_faces(ada, ada_faces)  # over 1,024 rows: Milvus builds the IVF_PQ index
    _, bob_ids = _photo_with_faces(bob, np.stack([query, query, *near[:4]]))  # nearer than any of Ada's
    assert index.get_index().wait_indexed("dlib", timeout_s=120)  # built and loaded: no stand-in scan answers now
    vectors = dict(zip(ada_ids, ada_faces, strict=True))
    exact = {face_id: distance**2 for face_id, distance in _brute_force(vectors, query, len(vectors))}
    client = MilvusClient(_uri(on_server), timeout=30)  # what Milvus itself answers: from PQ codes
    assert client.describe_index("webtube_faces_dlib", "vector")["index_type"] == "IVF_PQ"
    raw = client.search("webtube_faces_dlib", data=[query.tolist()], limit=10, filter=f"owner_id == {ada}",
                        search_params={"metric_type": "L2", "params": {"nprobe": 16}})[0]
    client.close()
    assert max(abs(hit["distance"] - exact[hit["id"]]) for hit in raw) > 1e-3  # approximate: re-ranking matters

    found = index.search(ada, "dlib", query, top_k=10)
    _assert_same(found, _brute_force(vectors, query, 10))  # the twelve near faces, in exact order and distance
    assert not set(bob_ids) & {face_id for face_id, _ in index.search(ada, "dlib", query, top_k=100)}
    assert {face_id for face_id, _ in index.search(bob, "dlib", query, top_k=100)} == set(bob_ids)


def test_a_search_while_another_process_reindexes_gives_the_exact_answers(on_server: MilvusServer) -> None:
    ada, bob = _owner("Ada"), _owner("Bob")
    rng = np.random.default_rng(13)
    vectors, bob_vectors = _library(ada, rng, photos=10), _library(bob, rng, photos=3)
    query = _unit(rng, 1)[0]
    _assert_same(index.search(ada, "dlib", query, top_k=5), _brute_force(vectors, query, 5))  # collection known
    client = MilvusClient(_uri(on_server), timeout=30)  # another process's reindex first drops every collection
    client.drop_collection("webtube_faces_dlib")
    client.close()
    _assert_same(index.search(ada, "dlib", query, top_k=5), _brute_force(vectors, query, 5))  # made again here
    other = MilvusIndex(_uri(on_server))  # then fills them again from the database
    assert other.rebuild() == len(vectors) + len(bob_vectors)
    other.close()
    _assert_same(index.search(ada, "dlib", query, top_k=5), _brute_force(vectors, query, 5))
    _assert_same(index.search(bob, "dlib", query, top_k=5), _brute_force(bob_vectors, query, 5))
    assert index.get_index().held(ada, "dlib") == len(vectors)


def test_a_server_stopped_during_an_import_then_reindex_gives_the_exact_answers(
    on_server: MilvusServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("WEBTUBE_MILVUS_TIMEOUT_S", "3")
    get_settings.cache_clear()
    ada = _owner("Ada")
    backend = index.get_index()
    adding = backend.add

    def add_then_stop(owner_id: int, embedder: str, face_ids: list[int], vectors: np.ndarray) -> None:
        adding(owner_id, embedder, face_ids, vectors)
        if on_server.running:
            on_server.stop()  # the server goes away after the first photo's faces reached it

    monkeypatch.setattr(backend, "add", add_then_stop)
    summary = import_paths(ada, PEOPLE[:3], "Trip")
    assert not on_server.running
    assert summary.photos == 3 and summary.failures == 0  # every photo and face kept in the database
    face_ids, vectors = library.face_vectors(ada, "dlib")
    assert len(face_ids) == summary.faces >= 3
    assert not backend.in_step(ada, "dlib")  # marked stale
    with pytest.raises(IndexUnavailable, match="reindex"):
        index.search(ada, "dlib", vectors[-1], top_k=5)

    on_server.start()
    on_server.wait_started(timeout=START_MS)
    assert cli.main(["reindex"]) == 0
    assert json.loads(capsys.readouterr().out)["faces"] == len(face_ids)
    assert backend.in_step(ada, "dlib")
    everything = dict(zip(face_ids, vectors, strict=True))
    for query in vectors:
        _assert_same(index.search(ada, "dlib", query, top_k=5), _brute_force(everything, query, 5))
