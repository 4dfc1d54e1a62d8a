"""`python -m core faces ...` as a person would run it: JSON out, status 2 and one sentence for unreadable input."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "core", "faces", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
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


def _truncated_png(path: Path) -> None:
    out = io.BytesIO()
    Image.linear_gradient("L").resize((640, 480)).convert("RGB").save(out, format="PNG")
    path.write_bytes(out.getvalue()[: len(out.getvalue()) // 2])


def _grey16_40mp(path: Path) -> None:
    Image.fromarray(np.zeros((5000, 8000), np.uint16)).save(path, format="PNG")


@pytest.mark.parametrize(
    ("make", "sentence"),
    [
        (lambda path: path.mkdir(), "The path is a folder, not an image file."),
        (os.mkfifo, "The path is a pipe (FIFO), not an image file."),
        (lambda path: path.symlink_to("/dev/zero"), "The path is a device, not an image file."),
        (lambda path: path.touch(), "The file is empty."),
        (lambda path: path.write_text("not a picture"), "This file is not an image we can read."),
        (_truncated_png, "The image is truncated or damaged and cannot be read."),
        (_grey16_40mp, "The image is 8000x5000 (40 MP); the limit is 12 MP."),
    ],
    ids=["folder", "fifo", "dev-zero", "empty", "text", "truncated-png", "grey16-40mp"],
)
def test_every_bad_path_gets_one_sentence_and_status_2(
    tmp_path: Path, make: Callable[[Path], object], sentence: str
) -> None:
    path = tmp_path / "input.png"
    make(path)
    done = _run("detect", str(path), timeout=60)  # a FIFO or a device must not hang it
    assert (done.returncode, done.stdout) == (2, ""), done.stderr
    assert done.stderr.startswith(f"error: {path}: {sentence}") and len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr
