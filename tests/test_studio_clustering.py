"""Clustering the studio's unnamed faces: real photos through the real importer, real SQLite."""
# ruff: noqa: F811 (the library fixtures are imported, then named as arguments)

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from core.storage.database import session_scope
from core.storage.studio_models import Face, Photo
from core.studio import clustering, people
from core.studio.errors import NotFound
from core.studio.graph_clustering import chinese_whispers, groups, knn_graph
from tests.support.studio_library import Library, library, library_template  # noqa: F401 (fixtures)


def _person_of(origin: str) -> str:
    """The identity a photo of people/ shows: its folder's name."""
    return Path(origin).parent.name


def _origins(owner_id: int) -> dict[int, str]:
    with session_scope() as session:
        return dict(session.execute(select(Photo.id, Photo.origin).where(Photo.owner_id == owner_id)).all())


def test_people_photos_cluster_by_person_and_loners_stay_out(library: Library) -> None:
    run = clustering.cluster_faces(library.owner_id)
    origins = _origins(library.owner_id)
    assert run.algorithm == "chinese_whispers" and run.clusters
    people_clusters = []
    for cluster in run.clusters:
        names = Counter(_person_of(origins[f.photo_id]) for f in cluster.faces
                        if Path(origins[f.photo_id]).parent.parent.name == "people")
        assert len(names) <= 1, f"cluster {cluster.cluster_id} mixes {dict(names)}"
        assert cluster.size == len(cluster.faces) >= 2
        people_clusters.append(names)
    # every person with at least two good photos in people/ gets a cluster (obama: 4 with obama_4 held out)
    clustered = {name for names in people_clusters for name in names}
    assert {"obama", "alex_lacamoire", "kit_harington"} <= clustered
    # lin_manuel_miranda has one photo: he fits nowhere, and stays unclustered
    loner = [f for f in run.unclustered if _person_of(origins[f.photo_id]) == "lin_manuel_miranda"]
    assert len(loner) == 1 and loner[0].cluster_id is None


def test_poor_quality_faces_are_never_clustered(library: Library) -> None:
    with session_scope() as session:
        face = session.scalars(select(Face).where(Face.owner_id == library.owner_id).order_by(Face.id)).first()
        face.quality_ok, face.quality_reasons = False, "blurred"
        poor_id = face.id
    run = clustering.cluster_faces(library.owner_id)
    assert poor_id not in {f.id for c in run.clusters for f in c.faces}
    assert poor_id in {f.id for f in run.unclustered}


def test_clusters_are_stored_and_read_back_without_recomputing(library: Library) -> None:
    run = clustering.cluster_faces(library.owner_id)
    again = clustering.current_clusters(library.owner_id)
    assert [(c.cluster_id, [f.id for f in c.faces]) for c in again.clusters] == \
        [(c.cluster_id, [f.id for f in c.faces]) for c in run.clusters]
    with session_scope() as session:
        stored = dict(session.execute(select(Face.id, Face.cluster_id).where(Face.owner_id == library.owner_id)).all())
    assert all(stored[f.id] == c.cluster_id for c in run.clusters for f in c.faces)


def test_named_faces_leave_clustering(library: Library) -> None:
    run = clustering.cluster_faces(library.owner_id)
    biggest = run.clusters[0]
    person = people.name_cluster(library.owner_id, biggest.cluster_id, name="First")
    rerun = clustering.cluster_faces(library.owner_id)
    named = {f.id for f in biggest.faces}
    assert person.face_count == biggest.size
    assert not named & {f.id for c in rerun.clusters for f in c.faces}
    assert not named & {f.id for f in rerun.unclustered}


def test_another_owner_sees_no_clusters_and_cannot_touch_them(library: Library) -> None:
    run = clustering.cluster_faces(library.owner_id)
    theirs = clustering.cluster_faces(library.stranger_id)
    assert theirs.clusters == [] and theirs.unclustered == []
    with pytest.raises(NotFound):
        people.name_cluster(library.stranger_id, run.clusters[0].cluster_id, name="Stolen")
    with pytest.raises(NotFound):
        people.merge_clusters(library.stranger_id, [c.cluster_id for c in run.clusters[:2]])
    assert clustering.current_clusters(library.owner_id).clusters[0].faces == run.clusters[0].faces


def test_cli_cluster_prints_faces_with_their_photo_and_box(library: Library) -> None:
    out = clustering.cli_cluster(argparse.Namespace(owner=None))
    assert out["clusters"] and all(c["size"] == len(c["faces"]) for c in out["clusters"])
    first = out["clusters"][0]["faces"][0]
    assert Path(first["photo"]).suffix in {".jpg", ".png"} and len(first["box"]) == 4
    assert any(u["photo"].endswith("lin_manuel_miranda_1.png") for u in out["unclustered"])


def test_knn_graph_is_exact_and_whispers_find_separated_groups() -> None:
    rng = np.random.default_rng(3)
    centres = rng.normal(0, 1.0, (6, 16))
    truth = np.repeat(np.arange(6), 30)
    vectors = (centres[truth] + rng.normal(0, 0.05, (180, 16))).astype(np.float32)
    vectors = np.vstack([vectors, rng.normal(0, 1.0, (1, 16)).astype(np.float32) * 10])  # one outlier
    graph = knn_graph(vectors, k=200, max_distance=1.0)
    brute = np.linalg.norm(vectors[:, None] - vectors[None], axis=2)
    expected = {(i, j) for i, j in zip(*np.nonzero(np.triu(brute <= 1.0, 1)), strict=True)}
    assert set(zip(graph.rows.tolist(), graph.cols.tolist(), strict=True)) == expected
    assert np.allclose(graph.distances, brute[graph.rows, graph.cols], atol=1e-4)
    found = groups(chinese_whispers(graph, 1.0), min_size=2)
    assert sorted(sorted(truth[m].tolist()) for m in found) == [[k] * 30 for k in range(6)]
    assert 180 not in np.concatenate(found)  # the outlier fits nowhere
