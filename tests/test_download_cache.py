"""The download cache: one fetch per video (threads and processes), a size quota with LRU eviction, crash leftovers.

Real yt-dlp against the local media server (under `loopback_only`), real files, a real second process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from filelock import FileLock

from core.videos.download_cache import DownloadCache
from core.videos.downloader import DownloadError, _cache_key, download
from tests.support.app_server import ROOT
from tests.support.media_server import MediaServer, Route

pytestmark = pytest.mark.usefixtures("loopback_only")


def _get_hits(media_server: MediaServer, path: str) -> int:
    return len([hit for hit in media_server.hits(path) if hit.method == "GET"])


def _slow_clip(media_server: MediaServer, path: str, clip: bytes) -> str:
    """The clip sent in 60 kB pieces every 0.1 s (about 1 s in all), so concurrent callers overlap."""
    media_server.add(path, Route(body=clip, content_type="video/mp4", trickle=(60_000, 0.1)))
    return media_server.url(path)


def test_eight_people_downloading_one_video_make_one_fetch(
    data_dir: Path, media_server: MediaServer, media_clip: bytes
) -> None:
    baseline = _slow_clip(media_server, "flight-baseline.mp4", media_clip)
    download(baseline, data_dir / "baseline", 10_000_000)
    one_fetch = _get_hits(media_server, "flight-baseline.mp4")
    assert one_fetch >= 1

    url = _slow_clip(media_server, "flight.mp4", media_clip)
    results: list[Path] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def viewer() -> None:
        start.wait()
        try:
            results.append(download(url, data_dir / "cache", 10_000_000))
        except BaseException as exc:  # every failure is reported by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=viewer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(results) == 8 and len(set(results)) == 1
    assert results[0].read_bytes() == media_clip
    assert _get_hits(media_server, "flight.mp4") == one_fetch


def test_waiters_get_the_leaders_error_without_fetching_again(
    data_dir: Path, media_server: MediaServer, media_clip: bytes
) -> None:
    """Eight people ask for a video over the size cap: one fetch is cut off, and all eight are told why."""
    baseline = _slow_clip(media_server, "too-big-baseline.mp4", media_clip)
    with pytest.raises(DownloadError):
        download(baseline, data_dir / "baseline", 100_000)
    one_fetch = _get_hits(media_server, "too-big-baseline.mp4")
    url = _slow_clip(media_server, "too-big.mp4", media_clip)
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def viewer() -> None:
        start.wait()
        try:
            download(url, data_dir / "cache", 100_000)
        except DownloadError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=viewer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [error.reason for error in errors] == ["too_large"] * 8  # type: ignore[attr-defined]
    assert _get_hits(media_server, "too-big.mp4") == one_fetch


def test_waiters_see_the_leaders_progress(data_dir: Path, media_server: MediaServer, media_clip: bytes) -> None:
    url = _slow_clip(media_server, "flight-progress.mp4", media_clip)
    leader_started = threading.Event()
    messages: list[str] = []

    def leader() -> None:
        download(url, data_dir / "cache", 10_000_000, lambda _f, _m: leader_started.set())

    thread = threading.Thread(target=leader)
    thread.start()
    leader_started.wait(30)
    download(url, data_dir / "cache", 10_000_000, lambda _f, message: messages.append(message))
    thread.join()
    assert any(message.startswith("Downloading") for message in messages)
    assert messages[-1].startswith("Downloaded")


def test_a_second_server_process_waits_for_the_first_and_fetches_nothing(
    data_dir: Path, media_server: MediaServer, media_clip: bytes
) -> None:
    """Two app servers sharing one cache: the other process leads; this one waits on the lock file, then reuses."""
    url = _slow_clip(media_server, "two-servers.mp4", media_clip)
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from core.videos.downloader import download\n"
        "def report(fraction, message):\n"
        "    print(message, flush=True)\n"
        "download(sys.argv[1], Path(sys.argv[2]), 10_000_000, report, allow_private=True)\n"
    )
    other = subprocess.Popen(
        [sys.executable, "-c", script, url, str(data_dir / "cache")],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert other.stdout is not None
        first_line = other.stdout.readline()
        assert first_line.startswith("Looking up the video"), first_line
        messages: list[str] = []
        saved = download(url, data_dir / "cache", 10_000_000, lambda _f, message: messages.append(message))
        assert other.wait(timeout=120) == 0
    finally:
        other.kill()
    fetched_by_other = _get_hits(media_server, "two-servers.mp4")
    assert "Another server is downloading this video; waiting for it…" in messages
    assert saved.read_bytes() == media_clip
    again = download(url, data_dir / "cache", 10_000_000)
    assert again == saved
    assert _get_hits(media_server, "two-servers.mp4") == fetched_by_other


def _entry(root: Path, key: str, size: int, used_at: float) -> Path:
    folder = root / key
    folder.mkdir(parents=True)
    (folder / "video.mp4").write_bytes(b"v" * size)
    os.utime(folder, (used_at, used_at))
    return folder


def test_the_quota_evicts_least_recently_used_first(tmp_path: Path) -> None:
    cache = DownloadCache(tmp_path, quota_bytes=2500)
    now = time.time()
    for index, key in enumerate(["a", "b", "c", "d"]):
        _entry(tmp_path, key, 1000, now - 100 + index)
    assert cache.lookup("a") is not None  # "a" was oldest; a hit makes it the most recently used
    assert cache.evict(keep="d") == ["b", "c"]
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == ["a", "d"]
    assert cache.size() == 2000


def test_the_newest_file_stays_even_when_alone_over_quota(tmp_path: Path) -> None:
    cache = DownloadCache(tmp_path, quota_bytes=500)
    _entry(tmp_path, "old", 400, time.time() - 50)
    _entry(tmp_path, "new", 1000, time.time())
    assert cache.evict(keep="new") == ["old"]
    assert cache.lookup("new") is not None


def test_downloads_beyond_the_quota_evict_the_older_video(
    data_dir: Path, media_server: MediaServer, media_clip: bytes
) -> None:
    cache_dir, quota = data_dir / "cache", int(len(media_clip) * 1.5)
    first = download(media_server.url("clip.mp4"), cache_dir, 10_000_000, quota_bytes=quota)
    second = download(media_server.url("watch.html"), cache_dir, 10_000_000, quota_bytes=quota)
    assert second.is_file()
    assert not first.exists() and not first.parent.exists()
    assert DownloadCache(cache_dir, quota).size() == len(media_clip)


def test_stale_partial_folders_are_cleared_at_first_use_but_live_ones_kept(
    data_dir: Path, media_server: MediaServer
) -> None:
    cache_dir = data_dir / "cache"
    cache_dir.mkdir(parents=True)
    crashed = cache_dir / ".0123456789abcdef0123456789abcdef-x1y2.partial"
    crashed.mkdir()
    (crashed / "half.mp4.part").write_bytes(b"half" * 1000)
    half_removed = cache_dir / ".trash-abc"
    half_removed.mkdir()
    live_key = "fedcba9876543210fedcba9876543210"
    live = cache_dir / f".{live_key}-q9w8.partial"
    live.mkdir()
    with FileLock(cache_dir / f".{live_key}.lock"):  # another server is downloading into it
        download(media_server.url("clip.mp4"), cache_dir, 10_000_000)
        assert not crashed.exists()
        assert not half_removed.exists()
        assert live.is_dir()
    key = _cache_key(media_server.url("clip.mp4"))
    assert sorted(p.name for p in cache_dir.iterdir() if p.suffix != ".lock") == sorted([key, live.name])
