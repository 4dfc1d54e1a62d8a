"""Monitoring with real parts: /metrics scraped over HTTP after real work (a studio import through the face
engine, password and face sign-ins that fail, a job queued in SQLite), JSON log lines in a rotating file that
never hold a password or an embedding, and the sampler's history."""

from __future__ import annotations

import json
import logging
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families

from core.accounts.users import InvalidCredentials, register, sign_in
from core.config import get_settings
from core.face_signin.decision import Phase
from core.face_signin.live import LiveSignIn
from core.faces.images import load_image
from core.monitoring import metrics
from core.monitoring.logs import configure_logging, log_event, reset_logging
from core.monitoring.metrics import serve_metrics
from core.monitoring.system import Sampler
from core.storage.database import session_scope
from core.storage.studio_models import Job
from core.studio.importer import import_paths
from tests.support.app_server import free_port

PASSWORD = "Sup3r secret passphrase 4 tests"
Scrape = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture(scope="module")
def metrics_url() -> str:
    port = serve_metrics(free_port())
    assert port is not None
    return f"http://127.0.0.1:{port}/metrics"


@pytest.fixture
def log_dir(site: Path) -> Iterator[Path]:
    """This test's log file, configured as a process configures it, taken down afterwards."""
    path = configure_logging("app")
    yield path
    reset_logging()


def _scrape(url: str) -> Scrape:
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        text = response.read().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(scrape: Scrape, name: str, **labels: str) -> float:
    return scrape.get((name, frozenset(labels.items())), 0.0)


def _queue_job(owner_id: int, kind: str = "video_analysis") -> None:
    with session_scope() as session:
        session.add(Job(owner_id=owner_id, kind=kind, status="queued", params="{}"))


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_scrape_shows_the_work_just_done(site: Path, faces_dir: Path, metrics_url: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBTUBE_SIGNIN_WINDOW", "2")  # two unknown frames end a face attempt as "no_match"
    monkeypatch.setenv("WEBTUBE_SIGNIN_VOTES", "1")
    get_settings.cache_clear()
    owner = register("Ann", "ann@example.com", PASSWORD, PASSWORD)
    before = _scrape(metrics_url)

    summary = import_paths(owner.id, [faces_dir / "groups" / "two_people.jpg"], "Holiday")
    with pytest.raises(InvalidCredentials):
        sign_in("ann@example.com", "not the password at all")
    with pytest.raises(InvalidCredentials):
        sign_in("nobody@example.com", PASSWORD)
    live = LiveSignIn()  # nobody enrolled: the face is nobody's
    frame = load_image(sorted((faces_dir / "people" / "obama").iterdir())[0])
    for _ in range(2):
        live.process(frame, time.monotonic())
    assert live.status().progress.phase is Phase.NOT_RECOGNISED
    _queue_job(owner.id)

    after = _scrape(metrics_url)

    def moved(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert summary.photos == 1 and summary.faces == 2
    assert moved("webtube_photos_processed_total") == 1
    assert moved("webtube_faces_found_total") == 2
    assert moved("webtube_model_seconds_count", stage="detect") >= 3  # the import's photo and two frames
    assert moved("webtube_model_seconds_count", stage="embed") >= 3
    assert moved("webtube_model_seconds_sum", stage="detect") > 0
    assert moved("webtube_signin_attempts_total", method="password", outcome="wrong_password") == 1
    assert moved("webtube_signin_attempts_total", method="password", outcome="unknown_account") == 1
    assert moved("webtube_signin_attempts_total", method="face", outcome="no_match") == 1
    assert _value(after, "webtube_job_queue_depth", kind="video_analysis") == 1
    assert _value(after, "webtube_jobs_by_status", kind="video_analysis", status="queued") == 1
    assert _value(after, "webtube_job_table_up") == 1
    if sys.platform == "linux":  # prometheus_client's process collector reads /proc
        assert _value(after, "process_resident_memory_bytes") > 50 * 2**20
        assert _value(after, "process_cpu_seconds_total") > 0


def test_log_lines_are_json_events_without_secrets(capsys: pytest.CaptureFixture[str], log_dir: Path) -> None:
    owner = register("Ann", "ann@example.com", PASSWORD, PASSWORD)
    typed = "my very wrong password 123"
    with pytest.raises(InvalidCredentials):
        sign_in("ann@example.com", typed)
    log_event("job_failed", level="error", job_id=7, kind="import", error="The job stopped: ValueError.",
              embedding=np.ones(128, dtype=np.float32), password=typed, chip=np.zeros((2, 2)))
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("core.studio.jobs").exception("a job broke")

    lines = _lines(log_dir)
    text = log_dir.read_text(encoding="utf-8")
    assert all(set(line) == {"time", "level", "event", "fields"} for line in lines)
    signin = [line for line in lines if line["event"] == "signin"]
    assert signin == [{**signin[0], "level": "warning",
                       "fields": {"method": "password", "outcome": "wrong_password", "user_id": owner.id}}]
    failed = next(line for line in lines if line["event"] == "job_failed")
    assert failed["level"] == "error"
    assert failed["fields"] == {"job_id": 7, "kind": "import", "error": "The job stopped: ValueError.",
                                "embedding": "[redacted]", "password": "[redacted]", "chip": "[binary omitted]"}
    broke = next(line for line in lines if line["event"] == "log")
    assert broke["fields"]["logger"] == "core.studio.jobs" and "ValueError: boom" in broke["fields"]["traceback"]
    assert typed not in text and PASSWORD not in text and "ann@example.com" not in text
    err = capsys.readouterr().err  # the same lines on stderr (among Streamlit's own warnings, not ours)
    assert [json.loads(line)["event"] for line in err.splitlines() if line.startswith("{")] == [
        line["event"] for line in lines]


def test_the_log_file_rotates_at_its_size(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBTUBE_LOG_MAX_MB", "0.002")  # about 2 KB
    monkeypatch.setenv("WEBTUBE_LOG_BACKUPS", "2")
    get_settings.cache_clear()
    path = configure_logging("worker")
    try:
        for number in range(120):
            log_event("job_finished", job_id=number, kind="import", status="done", seconds=1.5)
    finally:
        reset_logging()
    files = sorted(path.parent.iterdir())
    assert [f.name for f in files] == ["worker.log", "worker.log.1", "worker.log.2"]
    kept = [line["fields"]["job_id"] for f in reversed(files) for line in _lines(f)]
    assert kept == list(range(120 - len(kept), 120))  # the newest lines, whole and in order
    assert all(f.stat().st_size <= 2100 for f in files)


def test_samples_show_speed_queue_and_memory(site: Path) -> None:
    owner = register("Ann", "ann@example.com", PASSWORD, PASSWORD)
    sampler = Sampler(interval_s=60, keep=3)
    first = sampler.sample()
    metrics.photos_processed(5)
    metrics.frames_processed(20)
    _queue_job(owner.id, "import")
    time.sleep(0.05)

    second = sampler.sample()

    assert first.queue_depth == 0 and second.queue_depth == 1
    assert second.jobs == {"queued": 1, "running": 0, "done": 0, "failed": 0, "cancelled": 0}
    assert second.photos_per_s > 0 and second.frames_per_s == pytest.approx(4 * second.photos_per_s)
    assert second.rss_mb > 50 and second.cpu_percent >= 0 and 0 <= second.machine_cpu_percent <= 100
    torch = sys.modules.get("torch")
    cuda_in_use = torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized()
    assert (second.gpu_mb is not None) == cuda_in_use
    for _ in range(3):
        sampler.sample()
    assert len(sampler.samples()) == 3  # the ring buffer keeps the newest only


def test_the_sampler_thread_keeps_sampling(site: Path) -> None:
    sampler = Sampler(interval_s=0.05, keep=100)
    sampler.start()
    deadline = time.monotonic() + 60  # a busy machine slows the samples, never stops them
    while len(sampler.samples()) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    sampler.stop()
    count = len(sampler.samples())
    assert count >= 3
    time.sleep(0.2)
    assert len(sampler.samples()) == count  # stopped means stopped
