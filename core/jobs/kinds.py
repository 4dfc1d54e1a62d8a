"""Which function does each kind of job, named by path and imported only when a job of that kind runs.

Why by name: the runner lives in every process (the app, `python -m core worker`), and importing a
handler brings in the face engine and PyTorch; naming them here keeps the runner light until needed.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from core.jobs.context import JobContext


@dataclass(frozen=True)
class JobKind:
    label: str  # what the history calls it
    run: str  # "module:function" taking a JobContext and returning the result dict (or None)
    on_delete: str | None = None  # "module:function(owner_id, job_id, params)": remove what the job left on disk


KINDS: dict[str, JobKind] = {
    "import": JobKind("Photo import", "core.studio.jobs:run_import", "core.studio.jobs:delete_import_files"),
    "cloud_import": JobKind("Photo import from the cloud", "core.cloud.importer:run_cloud_import"),
    "reembed": JobKind("Re-embedding for a new face model", "core.studio.reembed:run_reembed"),
    "video_analysis": JobKind("Video face analysis", "core.video_analysis.job:run",
                              "core.video_analysis.job:delete_files"),
    "video_details": JobKind("Video details (title, length, thumbnail)", "core.videos.details:run"),
}


def _load(path: str) -> Callable:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def handler(kind: str) -> Callable[[JobContext], dict | None]:
    return _load(KINDS[kind].run)


def deleter(kind: str) -> Callable[[int, int, dict], None] | None:
    spec = KINDS.get(kind)
    return _load(spec.on_delete) if spec and spec.on_delete else None


def label(kind: str) -> str:
    spec = KINDS.get(kind)
    return spec.label if spec else kind
