"""Group an owner's unnamed faces into would-be people, and read the groups back.

Only good faces of the configured embedder take part: a poor-quality face (blurred, cut, turned)
would bridge two people, and vectors of different models are never compared. Faces that end up
alone fit nowhere and stay unclustered rather than polluting a group. The algorithm is Chinese
whispers on a kNN graph (core/studio/graph_clustering.py), chosen by bench/bench_studio_cluster.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.config import get_settings
from core.faces.thresholds import CALIBRATED
from core.storage.database import session_scope
from core.storage.studio_models import Face, Person, Photo
from core.studio.graph_clustering import chinese_whispers, groups, knn_graph
from core.studio.records import FaceInfo

ALGORITHM = "chinese_whispers"


@dataclass(frozen=True)
class ClusterInfo:
    cluster_id: int
    size: int
    faces: list[FaceInfo]


@dataclass(frozen=True)
class ClusterRun:
    clusters: list[ClusterInfo]
    unclustered: list[FaceInfo]
    algorithm: str
    seconds: float


def cluster_distance(embedder: str) -> float:
    """The largest distance that links two faces: WEBTUBE_STUDIO_CLUSTER_DISTANCE for the configured embedder,
    else the embedder's sign-in threshold (stricter than verify, because one wrong link merges two people)."""
    settings = get_settings()
    if settings.studio_cluster_distance is not None and embedder == settings.embedder:
        return settings.studio_cluster_distance
    return CALIBRATED[embedder].signin


def vectors_of(faces: Iterable[Face]) -> np.ndarray:
    """The faces' embeddings as one float32 matrix (stored little-endian float32)."""
    rows = [np.frombuffer(face.embedding, dtype="<f4", count=face.dim) for face in faces]
    return np.vstack(rows).astype(np.float32) if rows else np.zeros((0, 0), dtype=np.float32)


def face_infos(session: Session, faces: Iterable[Face]) -> list[FaceInfo]:
    """Records for Face rows, with the names of their people and suggested people (one query for the names)."""
    faces = list(faces)
    person_ids = {f.person_id for f in faces} | {f.suggested_person_id for f in faces}
    person_ids.discard(None)
    names = dict(session.execute(select(Person.id, Person.name).where(Person.id.in_(person_ids))).all()) \
        if person_ids else {}
    return [
        FaceInfo(
            id=f.id, photo_id=f.photo_id, box=(f.x1, f.y1, f.x2, f.y2), score=f.score, quality_ok=f.quality_ok,
            quality_reasons=tuple(r for r in f.quality_reasons.split("; ") if r), embedder=f.embedder,
            person_id=f.person_id, person_name=names.get(f.person_id), cluster_id=f.cluster_id,
            named_by=f.named_by, suggested_person_id=f.suggested_person_id,
            suggested_person_name=names.get(f.suggested_person_id),
        )
        for f in faces
    ]


def label_faces(vectors: np.ndarray, max_distance: float) -> list[np.ndarray]:
    """Indices of `vectors` per cluster (largest first); faces in no list fit nowhere."""
    settings = get_settings()
    graph = knn_graph(vectors, settings.studio_cluster_neighbours, max_distance)
    return groups(chinese_whispers(graph, max_distance), settings.studio_cluster_min_size)


def cluster_faces(owner_id: int) -> ClusterRun:
    """Recluster the owner's unnamed faces and store each face's group (Face.cluster_id; None = unclustered).

    Reads only ids and vectors and writes the groups with one bulk UPDATE by primary key, so 100,000
    faces never become 100,000 ORM objects.
    """
    started = time.perf_counter()
    embedder = get_settings().embedder
    with session_scope() as session:
        unnamed = Face.owner_id == owner_id, Face.person_id.is_(None)
        session.execute(update(Face).where(*unnamed).values(cluster_id=None))
        rows = session.execute(
            select(Face.id, Face.embedding, Face.dim)
            .where(*unnamed, Face.quality_ok.is_(True), Face.embedder == embedder).order_by(Face.id)
        ).all()
        if rows:
            vectors = np.vstack([np.frombuffer(blob, dtype="<f4", count=dim) for _, blob, dim in rows])
            assigned = [
                {"id": rows[index].id, "cluster_id": number}
                for number, members in enumerate(label_faces(vectors.astype(np.float32), cluster_distance(embedder)), 1)
                for index in members.tolist()
            ]
            if assigned:
                session.execute(update(Face), assigned)
        return _run_from(session, owner_id, ALGORITHM, time.perf_counter() - started)


def current_clusters(owner_id: int) -> ClusterRun:
    """The stored groups of the owner's unnamed faces, as the last clustering (and later corrections) left them."""
    started = time.perf_counter()
    with session_scope() as session:
        return _run_from(session, owner_id, ALGORITHM, time.perf_counter() - started)


def _run_from(session: Session, owner_id: int, algorithm: str, seconds: float) -> ClusterRun:
    faces = session.scalars(
        select(Face).where(Face.owner_id == owner_id, Face.person_id.is_(None)).order_by(Face.cluster_id, Face.id)
    ).all()
    infos = face_infos(session, faces)
    by_cluster: dict[int, list[FaceInfo]] = {}
    unclustered = []
    for info in infos:
        if info.cluster_id is None:
            unclustered.append(info)
        else:
            by_cluster.setdefault(info.cluster_id, []).append(info)
    clusters = [ClusterInfo(cid, len(members), members) for cid, members in by_cluster.items()]
    clusters.sort(key=lambda c: (-c.size, c.cluster_id))
    return ClusterRun(clusters, unclustered, algorithm, round(seconds, 4))


def cli_cluster(args) -> dict:
    """`python -m core studio cluster [--owner EMAIL]`: clusters with each face's photo path and box."""
    from core.studio.owners import resolve_owner

    owner_id = resolve_owner(getattr(args, "owner", None))
    run = cluster_faces(owner_id)
    with session_scope() as session:
        origins = dict(session.execute(select(Photo.id, Photo.origin).where(Photo.owner_id == owner_id)).all())

    def face_json(face: FaceInfo) -> dict:
        return {"face_id": face.id, "photo": origins.get(face.photo_id), "box": [round(v, 1) for v in face.box]}

    return {
        "algorithm": run.algorithm,
        "seconds": run.seconds,
        "clusters": [{"cluster_id": c.cluster_id, "size": c.size, "faces": [face_json(f) for f in c.faces]}
                     for c in run.clusters],
        "unclustered": [face_json(f) | {"quality_ok": f.quality_ok} for f in run.unclustered],
    }
