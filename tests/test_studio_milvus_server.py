"""The Milvus backend against a real Milvus server (the standalone server of the `milvus` package), started here,
reached over loopback at http://127.0.0.1:<port>, with an HNSW index, and stopped at the end (start bounded to
3 minutes by the package's wait)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from milvus import MilvusServer
from sqlalchemy import select

from core.config import get_settings
from core.storage.database import session_scope
from core.storage.studio_models import Face
from core.studio import index, library
from core.studio.index_milvus import MilvusIndex
from tests.test_studio_index import _assert_same, _brute_force, _library, _owner, _unit


@pytest.fixture(scope="module")
def milvus_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = MilvusServer(wait_for_started=False)
    server.set_base_dir(str(tmp_path_factory.mktemp("milvus-server")))
    try:
        server.start()
        server.wait_started(timeout=180_000)  # milliseconds
        yield f"http://127.0.0.1:{server.listen_port}"
    finally:
        server.stop()


@pytest.fixture
def on_server(milvus_server: str, site: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("WEBTUBE_FACE_INDEX", "milvus")
    monkeypatch.setenv("WEBTUBE_MILVUS_URI", milvus_server)
    monkeypatch.setenv("WEBTUBE_MILVUS_INDEX", "HNSW")
    get_settings.cache_clear()
    yield milvus_server
    index.rebuild()  # the server outlives the test's database: leave it empty for the next one
    index.close_index()


def test_search_removal_and_repair_on_a_milvus_server(on_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    ada, bob = _owner("Ada"), _owner("Bob")
    rng = np.random.default_rng(11)
    vectors = _library(ada, rng, photos=40)
    bob_vectors = _library(bob, rng, photos=5)
    assert isinstance(index.get_index(), MilvusIndex)
    for query in _unit(rng, 3):
        _assert_same(index.search(ada, "dlib", query, top_k=10), _brute_force(vectors, query, 10))
    query = next(iter(bob_vectors.values()))
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
