"""The download cache: one finished file per video, one fetch per video at a time, a size quota.

Layout of `<cache dir>`: `<key>/<file>` per finished video (the folder appears in one rename,
complete), `.<key>-*.partial` while it downloads, `.<key>.lock` per video (empty, kept).

- Single flight: in this process, the first caller for a key leads and the others wait on its
  Future (they see its progress, and its result or error). Across processes sharing the cache
  (several app servers), the leader also holds the key's lock file, so a second server waits and
  then finds the file. filelock is used for that rather than hand-written fcntl calls: it is
  maintained, portable, and already installed with torch.
- Quota: after each new file, the least recently used files are removed until the cache fits
  (`WEBTUBE_DOWNLOAD_CACHE_MB`); the new file always stays. "Used" is the folder's mtime, which
  every cache hit and every served download touches.
- A `.partial` folder whose lock nobody holds is left from a crash; the first use of a cache in a
  process removes those.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future, wait
from dataclasses import dataclass, field
from pathlib import Path

from filelock import FileLock, Timeout

from core.config import get_settings

ProgressSink = Callable[[float | None, str], None]
WAIT_POLL_S = 0.5
_flights: dict[tuple[Path, str], _Flight] = {}
_flights_lock = threading.Lock()
_swept: set[Path] = set()


def cache_root() -> Path:
    """The app's download cache: `<data dir>/downloads`."""
    return get_settings().data_dir / "downloads"


@dataclass
class _Flight:
    """One fetch in progress in this process: its outcome, and its latest progress for those waiting."""

    outcome: Future[Path] = field(default_factory=Future)
    fraction: float | None = None
    message: str = "Another download of this video is under way; waiting for it…"


class DownloadCache:
    """A cache folder; nothing is created on disk until the first fetch."""

    def __init__(self, root: Path, quota_bytes: int) -> None:
        self.root = root
        self.quota_bytes = quota_bytes

    def lookup(self, key: str) -> Path | None:
        """The finished file for `key`, marked as just used; None when it is not cached."""
        folder = self.root / key
        path = finished_file(folder)
        if path is not None:
            touch(folder)
        return path

    def fetch_once(self, key: str, fetch: Callable[[Path, ProgressSink], None], report: ProgressSink) -> Path:
        """The file for `key`: cached, or fetched by `fetch(staging_dir, progress)` once however many ask at once.

        `fetch` saves exactly one file into the staging folder; a failure leaves nothing behind.
        Callers that wait for another caller's fetch get its result, or its error.
        """
        flight_key = (self.root.resolve(), key)
        with _flights_lock:
            flight = _flights.get(flight_key)
            leading = flight is None
            if flight is None:
                flight = _flights[flight_key] = _Flight()
        if not leading:
            return _follow(flight, report)
        try:
            path = self._lead(key, fetch, _relay(flight, report))
        except BaseException as exc:
            flight.outcome.set_exception(exc)
            raise
        else:
            flight.outcome.set_result(path)
            return path
        finally:
            with _flights_lock:
                del _flights[flight_key]

    def _lead(self, key: str, fetch: Callable[[Path, ProgressSink], None], report: ProgressSink) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        self._sweep_once()
        lock = FileLock(self._lock_path(key))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            report(None, "Another server is downloading this video; waiting for it…")
            lock.acquire()
        try:
            cached = self.lookup(key)
            if cached is not None:
                return cached
            staging = Path(tempfile.mkdtemp(prefix=f".{key}-", suffix=".partial", dir=self.root))
            try:
                fetch(staging, report)
                path = _publish(staging, self.root / key)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        finally:
            lock.release()
        self.evict(keep=key)
        return path

    def evict(self, keep: str | None = None) -> list[str]:
        """Remove least recently used files until the cache fits its quota; returns the keys removed."""
        with FileLock(self._lock_path(".evict")):
            entries = []
            for folder in self._finished_folders():
                try:
                    entries.append((folder.stat().st_mtime, _folder_size(folder), folder))
                except OSError:
                    continue
            total = sum(size for _, size, _ in entries)
            removed = []
            for _, size, folder in sorted(entries, key=lambda entry: entry[0]):
                if total <= self.quota_bytes:
                    break
                if folder.name == keep:
                    continue
                _remove_folder(folder, self.root)
                total -= size
                removed.append(folder.name)
            return removed

    def size(self) -> int:
        """Bytes held by finished files."""
        return sum(_folder_size(folder) for folder in self._finished_folders())

    def _finished_folders(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return [path for path in self.root.iterdir() if path.is_dir() and not path.name.startswith(".")]

    def _lock_path(self, key: str) -> Path:
        return self.root / f".{key}.lock"

    def _sweep_once(self) -> None:
        """Remove staging folders left by a crash (their key's lock is free) and half-removed ones, once per process."""
        root = self.root.resolve()
        with _flights_lock:
            if root in _swept:
                return
            _swept.add(root)
        for path in self.root.iterdir():
            if path.name.startswith(".trash-"):
                shutil.rmtree(path, ignore_errors=True)
            elif path.name.endswith(".partial") and path.is_dir():
                lock = FileLock(self._lock_path(path.name[1:].split("-", 1)[0]))
                try:
                    lock.acquire(timeout=0)
                except Timeout:
                    continue  # someone is downloading into it right now
                try:
                    shutil.rmtree(path, ignore_errors=True)
                finally:
                    lock.release()


def finished_file(folder: Path) -> Path | None:
    """The finished file in a cache folder; the folder only ever appears complete (see `_publish`)."""
    if not folder.is_dir():
        return None
    files = [path for path in folder.iterdir() if path.is_file()]
    return files[0] if len(files) == 1 else None


def touch(folder: Path) -> None:
    """Mark a cached video as just used, for least-recently-used eviction; a vanished folder is fine."""
    with contextlib.suppress(OSError):
        os.utime(folder)


def _follow(flight: _Flight, report: ProgressSink) -> Path:
    """Wait for the leader's fetch, showing its progress in this caller's own thread; then its result or error.

    A leader stopped by something other than an error (Ctrl-C, its thread killed) is an interrupted download here.
    """
    while not wait([flight.outcome], timeout=WAIT_POLL_S).done:
        report(flight.fraction, flight.message)
    error = flight.outcome.exception()
    if error is None:
        return flight.outcome.result()
    if isinstance(error, Exception):
        raise error
    raise IncompleteDownload("The download was interrupted; please try again.") from error


def _relay(flight: _Flight, report: ProgressSink) -> ProgressSink:
    def relay(fraction: float | None, message: str) -> None:
        flight.fraction, flight.message = fraction, message
        report(fraction, message)

    return relay


def _publish(staging: Path, folder: Path) -> Path:
    """Move the finished file into place in one rename and return it."""
    files = list(staging.iterdir())
    if len(files) != 1 or files[0].suffix == ".part":
        raise IncompleteDownload("The download did not finish cleanly; please try again.")
    if folder.exists():
        _remove_folder(folder, folder.parent)  # a damaged entry (not exactly one file) is replaced
    staging.rename(folder)
    return folder / files[0].name


class IncompleteDownload(OSError):
    """The fetch returned without exactly one finished file."""


def _folder_size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.iterdir() if path.is_file())


def _remove_folder(folder: Path, root: Path) -> None:
    """Rename first, so a reader sees the file complete or not at all, then delete."""
    trash = root / f".trash-{uuid.uuid4().hex}"
    try:
        folder.rename(trash)
    except OSError:
        return
    shutil.rmtree(trash, ignore_errors=True)
