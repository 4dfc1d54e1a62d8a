"""The Milvus backend: one collection per face model (vectors of different models are never compared),
the owner as partition key and in every filter, through pymilvus's `MilvusClient`.

A file path opens Milvus Lite (embedded: one process holds the file); an http(s)://host:19530 URI talks to a
Milvus server or cluster, with the index type (HNSW, IVF_PQ, FLAT) and its parameters from the settings
(index_milvus_params.py). Why Milvus: an approximate index that scales past one machine's memory, kept by a
maintained project. In step with the database: each process remembers the check row it last reconciled
against; any other row (a change elsewhere, a rolled-back delete) reconciles that owner first, by id and a
signature of the vector. Candidates are measured again on the database's vectors, so approximate indexes still
return exact distances, in exact order, and never a face the database no longer has.

A server that stops answering: each call gives up after WEBTUBE_MILVUS_TIMEOUT_S and raises IndexUnavailable;
the owner's copy is then marked stale (forgotten mark: the next search reconciles it in full), and for
WEBTUBE_MILVUS_RETRY_S further calls fail at once, so an import of many photos does not wait on each one.
The faces stay in the database; `python -m core studio reindex` rebuilds the index once the server is back.
A collection that another process's reindex dropped is no outage: a search makes it again from the database.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import grpc
import numpy as np
from pymilvus import DataType, MilvusClient, MilvusException
from pymilvus.exceptions import ErrorCode

from core.config import get_settings
from core.studio import index_milvus_params as params
from core.studio.errors import StudioError
from core.studio.index_state import Mark, current_mark, indexed_keys, load_vectors, snapshot

_PREFIX = "webtube_faces_"
_BATCH = 5000
_STRONG = "Strong"  # reads that reconcile see every write before them (a server's default, Bounded, may not yet)
# Searches: "Session" sees this client's own writes; a Strong search waits for the server's next time tick
# (about 200 ms on a 2.3 server, measured). Other processes' changes move the database's mark, which makes this
# process reconcile with Strong reads first, and the re-ranking on the database's vectors drops any face the
# database no longer has, so Session costs no correctness here.
_SEARCH = "Session"
_MIN_INDEXED_ROWS = 1024  # a server builds no index on smaller segments (minSegmentNumRowsToEnableIndex)


def signature(vector: np.ndarray) -> int:
    """A 63-bit fingerprint of a float32 vector: tells a re-used face id with a new vector from the old one."""
    digest = hashlib.blake2b(np.ascontiguousarray(vector, dtype="<f4").tobytes(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def _collection_name(embedder: str) -> str:
    return _PREFIX + "".join(c if c.isalnum() else "_" for c in embedder)


def _id_list(ids: Sequence[int]) -> str:
    return "[" + ",".join(str(int(i)) for i in ids) + "]"


class IndexUnavailable(StudioError):
    """The Milvus server did not answer; the faces are safe in the database."""


class CollectionGone(IndexUnavailable):
    """A collection this process knew was dropped elsewhere (another process's reindex); the server answers."""


class MilvusIndex:
    """Search through Milvus (Lite or server); the database stays the source of truth."""

    def __init__(self, uri: str) -> None:
        settings = get_settings()
        params.check(settings, uri)
        self._uri = uri
        self._client = MilvusClient(uri, timeout=settings.milvus_timeout_s)
        self._known: dict[tuple[int, str], Mark] = {}
        self._present: set[str] = set()  # collections seen to exist: a search need not ask again (about 1 ms)
        self._lock = threading.RLock()
        self._retry_at = 0.0  # monotonic time before which calls fail at once (the server just failed)

    @contextmanager
    def _reaching(self, owner_id: int | None, fail_fast: bool = True) -> Iterator[None]:
        """Run Milvus calls; a failure marks the owner's copies stale (every owner's when None) and says why."""
        if fail_fast and time.monotonic() < self._retry_at:
            raise IndexUnavailable(f"The face index (Milvus at {self._uri}) failed a moment ago. The faces are safe "
                                   "in the database; try again shortly, or run `python -m core studio reindex`.")
        try:
            yield
        except (MilvusException, grpc.RpcError) as exc:
            self._present.clear()  # dropped elsewhere, or the server lost it: ask again next time
            if isinstance(exc, MilvusException) and exc.code == ErrorCode.COLLECTION_NOT_FOUND:
                self._known.clear()  # every owner's copy was in the dropped collection
                raise CollectionGone(f"The face index (Milvus at {self._uri}) is being rebuilt; try again in a "
                                     "moment.") from exc
            self._retry_at = time.monotonic() + get_settings().milvus_retry_s
            for key in [k for k in self._known if owner_id is None or k[0] == owner_id]:
                del self._known[key]
            raise IndexUnavailable(
                f"The face index (Milvus at {self._uri}) did not answer ({str(exc)[:200]}). The faces are safe in "
                "the database; the index catches up at the next search, or run `python -m core studio reindex`."
            ) from exc
        self._retry_at = 0.0

    # -- collections --------------------------------------------------------------------------------------------
    def _existing(self, embedder: str) -> str | None:
        """The model's collection, if one was made."""
        name = _collection_name(embedder)
        return name if self._exists(name) else None

    def _exists(self, name: str) -> bool:
        if name not in self._present and self._client.has_collection(name):
            self._present.add(name)
        return name in self._present

    def _collection(self, embedder: str, dim: int) -> str:
        """The model's collection, made (with the configured index) when a first vector of `dim` arrives."""
        name = _collection_name(embedder)
        if self._exists(name):
            return name
        settings = get_settings()
        build = params.build(settings, dim)
        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("owner_id", DataType.INT64, is_partition_key=True)
        schema.add_field("sig", DataType.INT64)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
        index_params = self._client.prepare_index_params()
        index_params.add_index(field_name="vector", index_type=settings.milvus_index, metric_type="L2", params=build)
        self._client.create_collection(name, schema=schema, index_params=index_params, consistency_level=_STRONG)
        self._present.add(name)
        return name

    def _collections(self) -> list[str]:
        return [name for name in self._client.list_collections() if name.startswith(_PREFIX)]

    def _write(self, name: str, owner_id: int, ids: np.ndarray, vectors: np.ndarray, replace: bool = True) -> None:
        """Delete then insert, not upsert: a Milvus 2.3 server's upsert loses rows of a partition-key collection.
        `replace=False` when Milvus is known to hold none of these ids (a reconcile deleted the stale ones)."""
        for start in range(0, len(ids), _BATCH):
            batch = ids[start : start + _BATCH]
            if replace:
                self._client.delete(name, filter=f"id in {_id_list(batch)}")
            rows = [{"id": int(i), "owner_id": owner_id, "sig": signature(v), "vector": v.tolist()}
                    for i, v in zip(batch, vectors[start : start + _BATCH], strict=True)]
            self._client.insert(name, rows)

    def _held(self, name: str, owner_id: int) -> dict[int, int]:
        """Every (id, signature) Milvus holds for the owner in this collection."""
        iterator = self._client.query_iterator(name, filter=f"owner_id == {owner_id}", output_fields=["id", "sig"],
                                               batch_size=_BATCH, consistency_level=_STRONG)
        held: dict[int, int] = {}
        try:
            while batch := iterator.next():
                held.update((int(row["id"]), int(row["sig"])) for row in batch)
        finally:
            iterator.close()
        return held

    # -- keeping in step ----------------------------------------------------------------------------------------
    def _reconcile(self, owner_id: int, embedder: str) -> int:
        """Make Milvus hold exactly the database's faces of this owner and model; returns how many it holds."""
        mark, ids, vectors = snapshot(owner_id, embedder)
        name = self._collection(embedder, vectors.shape[1]) if len(ids) else self._existing(embedder)
        if name is not None:
            held = self._held(name, owner_id)
            wanted = {int(i): signature(v) for i, v in zip(ids, vectors, strict=True)}
            extra = [i for i, sig in held.items() if wanted.get(i) != sig]
            for start in range(0, len(extra), _BATCH):
                batch = _id_list(extra[start : start + _BATCH])
                self._client.delete(name, filter=f"owner_id == {owner_id} and id in {batch}")
            missing = np.asarray([held.get(i) != sig for i, sig in wanted.items()], dtype=bool)
            if missing.any():
                self._write(name, owner_id, ids[missing], vectors[missing], replace=False)
            if extra or missing.any():
                self._client.flush(name)  # sealed and indexed: Lite searches a growing segment several times slower
        self._known[(owner_id, embedder)] = mark
        return len(ids)

    def _ensure(self, owner_id: int, embedder: str) -> None:
        if self._known.get((owner_id, embedder)) != current_mark(owner_id, embedder):
            self._reconcile(owner_id, embedder)

    # -- the interface ------------------------------------------------------------------------------------------
    def add(self, owner_id: int, embedder: str, face_ids: Sequence[int], vectors: np.ndarray) -> None:
        with self._lock, self._reaching(owner_id):
            ids = np.asarray(face_ids, dtype=np.int64)
            name = self._collection(embedder, vectors.shape[1])
            self._write(name, owner_id, ids, vectors)
            key = (owner_id, embedder)
            if key in self._known:
                self._known[key] = self._known[key].after(len(ids), len(ids), int(ids.sum()))

    def remove(self, owner_id: int, face_ids: Sequence[int]) -> None:
        with self._lock, self._reaching(owner_id):
            for name in self._collections():
                present = [int(row["id"]) for row in self._client.query(
                    name, filter=f"owner_id == {owner_id} and id in {_id_list(face_ids)}", output_fields=["id"],
                    consistency_level=_STRONG)]
                if not present:
                    continue
                self._client.delete(name, filter=f"owner_id == {owner_id} and id in {_id_list(present)}")
                for key in [k for k in self._known if k[0] == owner_id and _collection_name(k[1]) == name]:
                    self._known[key] = self._known[key].after(len(present), -len(present), -sum(present))

    def search(
        self, owner_id: int, embedder: str, vector: np.ndarray, top_k: int, max_distance: float | None,
        candidates: Sequence[int] | None = None,
    ) -> list[tuple[int, float]]:
        if candidates is not None and not candidates:
            return []
        with self._lock:
            try:
                hits = self._hits(owner_id, embedder, vector, top_k, candidates)
            except CollectionGone:  # another process's reindex dropped it: made again here from the database
                hits = self._hits(owner_id, embedder, vector, top_k, candidates)
        ids, vectors = load_vectors(owner_id, embedder, hits)
        if not len(ids) or vectors.shape[1] != vector.shape[0]:
            return []
        exact = np.linalg.norm(vectors.astype(np.float64) - vector.astype(np.float64), axis=1)
        order = np.lexsort((ids, exact))[:top_k]
        return [(int(ids[i]), float(exact[i])) for i in order if max_distance is None or exact[i] <= max_distance]

    def _hits(self, owner_id: int, embedder: str, vector: np.ndarray, top_k: int,
              candidates: Sequence[int] | None) -> list[int]:
        """The ids Milvus finds near `vector`, approximate order, with room for the exact re-ranking."""
        with self._reaching(owner_id):
            self._ensure(owner_id, embedder)
            name = self._existing(embedder)
            if name is None:
                return []
            where = f"owner_id == {owner_id}"  # with the partition key, Milvus also searches only that partition
            if candidates is not None:
                where += f" and id in {_id_list(candidates)}"
            settings = get_settings()
            limit = params.candidates(settings, top_k)
            hits = self._client.search(name, data=[vector.astype(np.float32).tolist()], limit=limit,
                                       filter=where, output_fields=["id"], consistency_level=_SEARCH,
                                       search_params=params.search(settings, limit))[0]
        return [int(hit["id"]) for hit in hits]

    def rebuild(self, owner_id: int | None = None) -> int:
        with self._lock, self._reaching(owner_id, fail_fast=False):  # asked for by a person: always tries
            if owner_id is None:  # every owner: start from empty collections, so nothing stale can stay
                for name in self._collections():
                    self._client.drop_collection(name)
                self._known.clear()
                self._present.clear()
            return sum(self._reconcile(owner, embedder) for owner, embedder in indexed_keys(owner_id))

    def close(self) -> None:
        """Let go of the connection (Milvus Lite: of the file, so another process may open it)."""
        self._client.close()

    def held(self, owner_id: int, embedder: str) -> int:
        """How many faces Milvus holds for the owner (no database check): for tests and benchmarks."""
        with self._lock, self._reaching(owner_id):
            name = self._existing(embedder)
            return 0 if name is None else len(self._held(name, owner_id))

    def wait_indexed(self, embedder: str, timeout_s: float) -> bool:
        """Seal the model's rows and wait until the server searches them through its built index (False: not
        within `timeout_s`). Until then a server scans new rows with a stand-in index of its own: right answers
        mostly, neither the index's recall nor its speed."""
        if params.is_lite(self._uri):
            return True  # Lite indexes as it writes
        with self._lock, self._reaching(None, fail_fast=False):
            name = self._existing(embedder)
            if name is None:
                return True
            self._client.flush(name)
            deadline = time.monotonic() + timeout_s
            while not self._serves_index(name):
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.2)
            return True

    def _serves_index(self, name: str) -> bool:
        """Built over every row, and loaded: a 2.3 query node takes seconds after the build to swap its stand-in
        (a segment with no index id) for the built index. Segments too small to index are scanned for good.
        pending_index_rows is not used: after compaction a 2.3 server left it above 0 for good."""
        state = self._client.describe_index(name, "vector")
        if state["indexed_rows"] < state["total_rows"]:
            return False
        loaded = self._client.list_loaded_segments(name)
        return (sum(s.num_rows for s in loaded) >= state["total_rows"]
                and all(s.index_id for s in loaded if s.num_rows >= _MIN_INDEXED_ROWS))

    def in_step(self, owner_id: int, embedder: str) -> bool:
        """Whether this process holds the owner's copy as in step with the database (no Milvus call)."""
        return self._known.get((owner_id, embedder)) == current_mark(owner_id, embedder)
