"""`python -m core faces ...` as a person would run it: JSON out, status 2 for unreadable input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "core", "faces", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def test_detect_prints_every_face(faces_dir: Path) -> None:
    done = _run("detect", str(faces_dir / "groups" / "kit_with_rose.jpg"), str(faces_dir / "hard" / "32bit.png"))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert [len(item["faces"]) for item in result] == [2, 1]
    face = result[1]["faces"][0]
    assert set(face) == {"box", "score", "landmarks", "quality"}
    assert len(face["landmarks"]) == 5 and face["quality"]["ok"] is True


def test_embed_prints_vectors(faces_dir: Path) -> None:
    done = _run("embed", str(faces_dir / "people" / "biden" / "biden_1.jpg"))
    assert done.returncode == 0, done.stderr
    vector = json.loads(done.stdout)[0]["faces"][0]["embedding"]
    assert len(vector) == 128 and any(abs(v) > 0.01 for v in vector)


def test_verify_same_person_and_group_note(faces_dir: Path) -> None:
    same = _run("verify", str(faces_dir / "people" / "obama" / "obama_3.jpg"), str(faces_dir / "hard" / "32bit.png"))
    assert same.returncode == 0, same.stderr
    answer = json.loads(same.stdout)
    assert answer["same_person"] is True and answer["distance"] < answer["threshold"]
    assert answer["face_counts"] == [1, 1]
    group = _run("verify", str(faces_dir / "groups" / "two_people.jpg"), str(faces_dir / "people/biden/biden_1.jpg"))
    answer = json.loads(group.stdout)
    assert answer["face_counts"][0] == 2 and "largest good one" in answer["notes"][0]


def test_unreadable_input_exits_2_with_one_line(tmp_path: Path) -> None:
    fake = tmp_path / "fake.jpg"
    fake.write_text("not a picture")
    done = _run("detect", str(fake))
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1 and "fake.jpg" in done.stderr
