"""Export of the studio's faces (CSV, JSON, embeddings as .npy or Parquet) and of search results.

Real photos through the real importer and search, real SQLite, the real command line in a subprocess.
"""
# ruff: noqa: F811 (the library fixtures are imported, then named as arguments)

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from core.storage.database import session_scope
from core.storage.studio_models import Face
from core.studio import clustering, export, people, search
from core.studio.errors import BadInput
from tests.support.paths import FACES_DIR
from tests.support.studio_library import Library, library, library_template  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]


def _stored(owner_id: int) -> dict[int, Face]:
    with session_scope() as session:
        return {f.id: f for f in session.scalars(select(Face).where(Face.owner_id == owner_id))}


def _name_first_cluster(owner_id: int) -> tuple[int, set[int]]:
    cluster = clustering.cluster_faces(owner_id).clusters[0]
    return people.name_cluster(owner_id, cluster.cluster_id, name="Named").id, {f.id for f in cluster.faces}


def test_csv_has_every_face_with_photo_album_box_person_and_cluster(library: Library, tmp_path: Path) -> None:
    person_id, named = _name_first_cluster(library.owner_id)
    files = export.export_faces(library.owner_id, "csv", dest=tmp_path / "faces.csv")
    with files.main.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    stored = _stored(library.owner_id)
    assert files.embeddings is None and {int(r["face_id"]) for r in rows} == set(stored)
    assert list(rows[0]) == list(export.COLUMNS)
    by_id = {int(r["face_id"]): r for r in rows}
    for face_id in named:
        assert by_id[face_id]["person"] == "Named" and by_id[face_id]["person_id"] == str(person_id)
    sample = next(r for r in rows if r["file_name"] == "obama_and_biden.jpg")
    assert sample["albums"] == "Groups" and sample["album_sources"] == "folder"
    assert sample["origin"].endswith("groups/obama_and_biden.jpg")
    face = stored[int(sample["face_id"])]
    assert float(sample["x1"]) == pytest.approx(face.x1, abs=0.06) and float(sample["score"]) > 0.5
    assert {r["cluster_id"] for r in rows} - {""}  # unnamed clustered faces carry their cluster


def test_json_with_embeddings_lines_up_with_the_database(library: Library, tmp_path: Path) -> None:
    files = export.export_faces(library.owner_id, "json", embeddings=True, dest=tmp_path / "faces.json")
    rows = json.loads(files.main.read_text(encoding="utf-8"))
    vectors = np.load(files.embeddings)
    assert files.embeddings == tmp_path / "faces.embeddings.npy"
    stored = _stored(library.owner_id)
    assert vectors.shape == (len(rows), stored[rows[0]["face_id"]].dim) and vectors.dtype == np.float32
    for row in rows:
        expected = np.frombuffer(stored[row["face_id"]].embedding, dtype="<f4")
        assert np.array_equal(vectors[row["embedding_row"]], expected)
        assert isinstance(row["albums"], list) and isinstance(row["quality_ok"], bool)


def test_parquet_embeddings_carry_their_face_ids(library: Library, tmp_path: Path) -> None:
    files = export.export_faces(library.owner_id, "csv", embeddings=True, dest=tmp_path / "f.csv",
                                embeddings_format="parquet")
    table = pq.read_table(files.embeddings)
    stored = _stored(library.owner_id)
    assert sorted(table.column("face_id").to_pylist()) == sorted(stored)
    first = table.slice(0, 1).to_pylist()[0]
    assert np.allclose(first["embedding"], np.frombuffer(stored[first["face_id"]].embedding, dtype="<f4"))


def test_nobody_exports_another_library(library: Library, tmp_path: Path) -> None:
    files = export.export_faces(library.stranger_id, "json", embeddings=True, dest=tmp_path / "theirs.json")
    assert json.loads(files.main.read_text()) == [] and np.load(files.embeddings).shape[0] == 0


def test_bad_format_is_one_sentence_and_writes_nothing(library: Library, tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="csv or json"):
        export.export_faces(library.owner_id, "xlsx", dest=tmp_path / "faces.xlsx")
    with pytest.raises(BadInput, match="npy or parquet"):
        export.export_faces(library.owner_id, "csv", embeddings=True, dest=tmp_path / "f.csv",
                            embeddings_format="pickle")
    assert list(tmp_path.iterdir()) == [tmp_path / "data"]


def test_a_failed_write_leaves_no_half_file(library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(rows: list[dict], fmt: str) -> str:
        raise OSError("disk full")

    monkeypatch.setattr(export, "_render", broken)
    with pytest.raises(OSError):
        export.export_faces(library.owner_id, "csv", dest=tmp_path / "out" / "faces.csv")
    assert list((tmp_path / "out").iterdir()) == []


def test_search_results_export_with_their_similarity(library: Library, tmp_path: Path) -> None:
    sample = (FACES_DIR / "people" / "obama" / "obama_4.jpg").read_bytes()  # held out of the library
    result = search.search_by_sample(library.owner_id, sample, threshold_pct=70)
    assert result.matches
    files = export.export_search(result, "json", dest=tmp_path / "search.json")
    rows = json.loads(files.main.read_text())
    assert [r["face_id"] for r in rows] == [m.face.id for m in result.matches]
    assert [r["similarity_pct"] for r in rows] == sorted((r["similarity_pct"] for r in rows), reverse=True)
    assert all(r["similarity_pct"] >= 70 and "distance" in r for r in rows)
    obama_photos = {"obama_1.jpg", "obama_2.jpg", "obama_3.jpg", "obama_5_small.jpg", "obama_and_biden.jpg",
                    "two_people.jpg"}
    assert rows[0]["file_name"] in obama_photos


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", "studio", *args], capture_output=True, text=True,
                          cwd=ROOT, env=os.environ.copy(), timeout=300)


def test_command_line_cluster_people_export(library: Library, tmp_path: Path) -> None:
    clustered = _cli("cluster")
    assert clustered.returncode == 0, clustered.stderr
    clusters = json.loads(clustered.stdout)["clusters"]
    assert clusters and all("photo" in f and "box" in f for c in clusters for f in c["faces"])
    person_id, _ = _name_first_cluster(library.owner_id)
    renamed = _cli("people", "rename", str(person_id), "Renamed")
    assert renamed.returncode == 0 and json.loads(renamed.stdout)["name"] == "Renamed"
    listed = json.loads(_cli("people", "list").stdout)
    assert [p["name"] for p in listed] == ["Renamed"]
    out = tmp_path / "cli.csv"
    exported = _cli("export", "--format", "csv", "--embeddings", "--output", str(out))
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout) == {"file": str(out), "embeddings": str(tmp_path / "cli.embeddings.npy")}
    theirs = tmp_path / "theirs.json"
    stranger = ("--owner", "stranger@example.com")
    assert _cli("export", "--format", "json", "--output", str(theirs), *stranger).returncode == 0
    assert json.loads(theirs.read_text()) == []
    assert json.loads(_cli("cluster", *stranger).stdout)["clusters"] == []
    stolen = _cli("people", "rename", str(person_id), "Mine", *stranger)
    assert stolen.returncode == 2 and "No such person" in stolen.stderr
    missing = _cli("people", "delete", "999999")
    assert missing.returncode == 2 and missing.stdout == "" and len(missing.stderr.strip().splitlines()) == 1
    assert "No such person" in missing.stderr
