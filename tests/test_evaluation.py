"""`python -m core faces evaluate`: the real command on the test photos, and its metrics on known scores."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.__main__ import main
from core.config import get_settings
from core.faces.errors import ImageError
from core.faces.evaluation import equal_error_rate, rates_at, read_pairs, threshold_at_far
from core.faces.risk import CALIBRATION_FILE, signin_risk_words, stranger_rate

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_command_compares_dlib_and_sface_on_the_people_photos(
    data_dir: Path, faces_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "report"
    argv = ["faces", "evaluate", str(faces_dir / "people"), "--embedder", "dlib", "--embedder", "sface",
            "--report", str(report)]
    assert main(argv) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["photos"] == 16 and answer["skipped"] == {}
    assert set(answer["embedders"]) == {"dlib", "sface", "dlib+sface"}
    for entry in answer["embedders"].values():
        assert entry["pairs"] == {"genuine": 18, "impostor": 102}
        assert entry["at_thresholds"]["verify"]["accuracy"] == 1.0
        assert entry["at_thresholds"]["verify"]["false_accept_rate"] == 0.0
        assert entry["threshold_at_far"]["1e-3"]["measurable"] is False  # 102 impostor pairs cannot resolve 1e-3
        # below the closest impostor pair: floored to 4 decimals, where "closest" is rounded, so they may print equal
        assert entry["threshold_at_far"]["1e-4"]["threshold"] <= entry["impostor_distance"]["closest"]
        assert entry["equal_error_rate"]["eer"] == 0.0
    assert answer["embedders"]["dlib"]["at_thresholds"]["verify"]["threshold"] == 0.6
    stored = json.loads(CALIBRATION_FILE.read_text())  # made by bench/calibrate.py from these photos and public/
    for name in ("dlib", "sface"):
        measured = answer["embedders"][name]["impostor_distance"]["closest"]
        assert any(d == pytest.approx(measured, abs=2e-3) for d in stored[name]["impostor"]), name
    for name in ("roc.png", "det.png"):
        assert (report / name).read_bytes().startswith(PNG_MAGIC)
    assert json.loads((report / "report.json").read_text())["embedders"].keys() == answer["embedders"].keys()
    assert "| sface | 18 / 102 |" in (report / "report.md").read_text()


def test_pairs_file(data_dir: Path, faces_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    people = faces_dir / "people"
    pairs = tmp_path / "pairs.txt"
    pairs.write_text(
        "# first second same\n"
        f"{people}/obama/obama_1.jpg {people}/obama/obama_2.jpg 1\n"
        f"{people}/obama/obama_1.jpg {people}/biden/biden_1.jpg 0\n"
    )
    assert main(["faces", "evaluate", str(pairs), "--embedder", "sface", "--report", str(tmp_path / "r")]) == 0
    entry = json.loads(capsys.readouterr().out)["embedders"]["sface"]
    assert entry["pairs"] == {"genuine": 1, "impostor": 1}
    assert entry["at_thresholds"]["verify"]["accuracy"] == 1.0


@pytest.mark.parametrize(
    ("content", "message"),
    [("a.jpg b.jpg maybe\n", "line 1: expected `PATH PATH 1|0`"), ("# nothing\n", "lists no pairs")],
)
def test_bad_pairs_file_gets_one_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    pairs = tmp_path / "pairs.txt"
    pairs.write_text(content)
    report = tmp_path / "report"
    assert main(["faces", "evaluate", str(pairs), "--report", str(report)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not report.exists()


def test_one_person_is_not_enough(faces_dir: Path) -> None:
    with pytest.raises(ImageError, match="at least two folders"):
        read_pairs(faces_dir / "people" / "obama")


def test_metrics_on_known_scores() -> None:
    genuine = np.array([0.1, 0.2, 0.3, 0.6])
    impostor = np.linspace(0.5, 1.5, 2000)  # 2000 impostor pairs resolve 1e-3, not 1e-4
    at = rates_at(genuine, impostor, 0.5)
    assert at["recall"] == 0.75 and at["false_accept_rate"] == 0.0005 and at["precision"] == 0.75
    far3 = threshold_at_far(genuine, impostor, 1e-3)
    assert far3["measurable"] is True
    assert (impostor <= far3["threshold"]).sum() == 2 and far3["false_reject_rate"] == 0.25
    far4 = threshold_at_far(genuine, impostor, 1e-4)
    assert far4["measurable"] is False and (impostor <= far4["threshold"]).sum() == 0
    eer = equal_error_rate(np.array([0.1, 0.2, 0.7]), np.array([0.6, 0.8, 0.9]))
    assert eer == {"eer": pytest.approx(1 / 3, abs=1e-4), "threshold": 0.6}


def test_risk_in_words_from_the_calibration_data() -> None:
    dlib = stranger_rate("dlib", 0.5)
    assert (dlib.passed, dlib.pairs) == (0, 305)
    assert dlib.words.startswith("Fewer than 1 in 305 strangers would pass: none of 305 stranger pairs did")
    assert "tests/data/faces/people" in dlib.words
    closest = json.loads(CALIBRATION_FILE.read_text())["sface"]["impostor"]
    loose = stranger_rate("sface", closest[9])  # the ten closest stranger pairs pass
    assert loose.passed == 10 and loose.words.startswith("About 1 in 30 strangers would pass: 10 of 305")
    assert "not measured" in stranger_rate("facenet", 0.85).words


def test_signin_risk_names_the_configured_model(data_dir: Path) -> None:
    words = signin_risk_words()
    assert words.startswith("Face sign-in threshold 0.50 (dlib model). Fewer than 1 in 305 strangers would pass")


def test_missing_model_is_named_not_every_photo_skipped(
    data_dir: Path,
    tmp_path: Path, faces_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WEBTUBE_WEIGHTS_DIR", str(tmp_path / "no-weights"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    monkeypatch.setenv("https_proxy", "http://127.0.0.1:9")  # nothing listens there: the download fails at once
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    get_settings.cache_clear()
    report = tmp_path / "report"
    assert main(["faces", "evaluate", str(faces_dir / "people"), "--embedder", "facenet", "--report", str(report)]) == 1
    err = capsys.readouterr().err
    assert "20180402-114759-vggface2.pt" in err and err.count("\n") == 1
    assert not report.exists()
