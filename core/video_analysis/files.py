"""Where an analysis keeps its files, and how they appear all at once or not at all.

Layout: `<data dir>/video_analysis/<owner>/<key>/` holding `annotated.mp4`, `frames.json` (the boxes of
every sampled frame, for the JSON export) and `people/<seq>.jpg` (thumbnails). The key is `job-<id>` for a
job, so a job run again after a crash writes the same folder: everything is built in a staging folder
beside it and swapped in with two renames inside the transaction that writes the rows, and leftovers of a
dead attempt (staging or old folders of the same key) are removed before a new attempt starts.
Staged uploads wait in `<owner>/uploads/` until their job has used them.
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

from core.config import get_settings

ROOT = "video_analysis"


def owner_root(owner_id: int) -> Path:
    return get_settings().data_dir / ROOT / str(owner_id)


def relative(path: Path) -> str:
    """A path under the data directory, as the database stores it."""
    return path.relative_to(get_settings().data_dir).as_posix()


def absolute(stored: str) -> Path:
    return get_settings().data_dir / stored


def job_key(job_id: int) -> str:
    return f"job-{job_id}"


def uploads_dir(owner_id: int) -> Path:
    return owner_root(owner_id) / "uploads"


def clear_leftovers(owner_id: int, key: str) -> None:
    """Remove what a dead attempt at `key` left: its staging and swapped-out folders (not the published one)."""
    root = owner_root(owner_id)
    for pattern in (f"{key}.staging-*", f"{key}.old-*"):
        for path in root.glob(pattern):
            shutil.rmtree(path, ignore_errors=True)


def staging_dir(owner_id: int, key: str) -> Path:
    path = owner_root(owner_id) / f"{key}.staging-{secrets.token_hex(4)}"
    (path / "people").mkdir(parents=True)
    return path


def publish(staging: Path, key: str) -> tuple[Path, Path | None]:
    """Swap `staging` in as `key`'s folder; returns (published, the previous folder moved aside or None)."""
    final = staging.parent / key
    old = None
    if final.exists():
        old = staging.parent / f"{key}.old-{secrets.token_hex(4)}"
        os.replace(final, old)
    os.replace(staging, final)
    return final, old


def unpublish(final: Path, old: Path | None) -> None:
    """Undo `publish` after the rows could not be written: the previous folder comes back."""
    shutil.rmtree(final, ignore_errors=True)
    if old is not None:
        os.replace(old, final)


def remove(path: Path | None) -> None:
    if path is not None:
        shutil.rmtree(path, ignore_errors=True)
