"""The "video_analysis" job kind: input checked when asked, the work done by the one job system (core/jobs).

`start_analysis` refuses bad input at once (not a video, damaged, unsupported codec, over the caps) with
nothing queued and the staged upload removed. `run` is idempotent: its files are built in a staging folder
and its rows replace any a previous attempt of the same job left (core.video_analysis.store), so a job
queued again after a crash finishes without doubles. A shared site video is fetched by the site's
downloader (the "Save" download: one size-capped file in the download cache, reused) and linked into
the staging folder, so the cache evicting it mid-analysis cannot pull it away.
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from pathlib import Path
from typing import BinaryIO

from core.config import get_settings
from core.jobs.context import JobContext, JobFailed
from core.jobs.queue import enqueue
from core.storage.database import session_scope
from core.storage.models import Video
from core.studio.errors import BadInput, NotFound
from core.video_analysis import files, store
from core.video_analysis.pipeline import analyse
from core.video_analysis.probe import VideoFile, check_duration, check_size, probe_video

KIND = "video_analysis"
CHUNK = 1 << 20
MAX_SAMPLE_FPS = 30.0


def sample_rate(fps: float | None) -> float:
    """The sampling rate asked for, or WEBTUBE_VIDEO_SAMPLE_FPS; refused outside (0, 30]."""
    rate = get_settings().video_sample_fps if fps is None else float(fps)
    if not 0 < rate <= MAX_SAMPLE_FPS:
        raise BadInput(f"The sampling rate must be more than 0 and at most {MAX_SAMPLE_FPS:.0f} frames per second.")
    return rate


def stage_upload(owner_id: int, file_name: str, stream: BinaryIO) -> Path:
    """Copy an uploaded video under the owner's uploads folder (its own name kept), refusing it over the size cap."""
    safe = Path(file_name.replace("\\", "/")).name.strip()[:200] or "video"
    folder = files.uploads_dir(owner_id) / secrets.token_hex(8)
    folder.mkdir(parents=True)
    target = folder / safe
    try:
        size = 0
        with target.open("wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                check_size(size)
                out.write(chunk)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return target


def _staged(owner_id: int, path: Path) -> Path:
    root = files.uploads_dir(owner_id).resolve()
    resolved = Path(path).resolve()
    if not resolved.is_relative_to(root) or resolved.parent == root:
        raise BadInput("An uploaded video must be staged first (stage_upload).")
    return resolved


def _site_video(video_id: int) -> Video:
    with session_scope() as session:
        video = session.get(Video, video_id)
        if video is None:
            raise NotFound("There is no such video on the site.")
        session.expunge(video)
        return video


def start_params(*, upload: Path | None = None, file: Path | None = None, video_id: int | None = None,
                 fps: float | None = None) -> tuple[dict, int]:
    """Check one input (a staged upload, a file of the command line's, or a site video) before anything is
    queued; returns the job's parameters and its expected progress total. BadInput / NotFound otherwise."""
    if sum(given is not None for given in (upload, file, video_id)) != 1:
        raise BadInput("Choose one video to analyse: an uploaded file or a video shared on the site.")
    rate = sample_rate(fps)
    if video_id is not None:
        video = _site_video(video_id)
        if video.duration_s:
            check_duration(video.duration_s)
        return {"video_id": video_id, "source_name": video.title, "sample_fps": rate}, 0
    path = Path(upload or file)
    probed = probe_video(path)
    return {"upload" if upload else "file": str(path), "source_name": path.name, "sample_fps": rate}, \
        2 * probed.frame_count


def start_analysis(owner_id: int, *, upload_path: Path | None = None, video_id: int | None = None,
                   fps: float | None = None) -> int:
    """Check the input and queue its analysis; returns the job id. Exactly one of a staged upload or a site video.

    A refused upload is removed at once: nothing is left behind."""
    staged = _staged(owner_id, Path(upload_path)) if upload_path is not None else None
    try:
        params, total = start_params(upload=staged, video_id=video_id, fps=fps)
    except BadInput:
        if staged is not None:
            shutil.rmtree(staged.parent, ignore_errors=True)
        raise
    return enqueue(owner_id, KIND, params, total)


def _fetch(ctx: JobContext, staging: Path) -> Path:
    """The site video, fetched by the downloader (or found in its cache) and linked into `staging`."""
    from core.videos.downloads import DownloadFailed, download_video

    def fetching(_share: float | None, line: str) -> None:
        ctx.progress(0, None, stage=line)  # "Downloading: 3 MB of 10 MB"

    ctx.progress(0, None, stage="Fetching the video", force=True)
    try:
        saved = download_video(int(ctx.params["video_id"]), fetching)
    except DownloadFailed as exc:
        raise JobFailed(str(exc)) from exc
    target = staging / f"source{saved.path.suffix}"
    try:
        os.link(saved.path, target)
    except OSError:  # another file system: a copy
        shutil.copyfile(saved.path, target)
    return target


def _probe(path: Path) -> VideoFile:
    try:
        return probe_video(path)
    except BadInput as exc:
        raise JobFailed(str(exc)) from exc


def run(ctx: JobContext) -> dict | None:
    """Analyse the job's video and store the result; None when cancelled or taken over (nothing written)."""
    key = files.job_key(ctx.id)
    files.clear_leftovers(ctx.owner_id, key)
    staging = files.staging_dir(ctx.owner_id, key)
    upload = ctx.params.get("upload")  # a staged upload, removed once analysed
    given = upload or ctx.params.get("file")  # or a file of the command line's, never removed
    try:
        path = Path(given) if given else _fetch(ctx, staging)
        if given and not path.is_file():
            raise JobFailed("The video file is gone; give it again.")
        video = _probe(path)

        def report(done: int, total: int, stage: str) -> None:
            ctx.progress(done, total, stage=stage)

        try:
            outcome = analyse(ctx.owner_id, video, float(ctx.params["sample_fps"]), staging, report, ctx.keep_going)
        except BadInput as exc:
            raise JobFailed(str(exc)) from exc
        if outcome is None:
            return None
        if not given:
            (staging / path.name).unlink()
        started = time.perf_counter()
        try:
            analysis_id = store.save(ctx.owner_id, key, staging, outcome, job_id=ctx.id,
                                     video_id=ctx.params.get("video_id"), source_name=ctx.params["source_name"],
                                     still_mine=ctx.still_mine)
        except store.NotHeld:
            return None
    finally:
        files.remove(staging)
    if upload:
        shutil.rmtree(Path(upload).parent, ignore_errors=True)  # the analysis has what it needs
    ctx.progress(2 * video.frame_count, 2 * video.frame_count, stage="Done", force=True)
    named = sum(1 for p in outcome.people if p.person_id is not None)
    return {"analysis_id": analysis_id, "people": len(outcome.people), "named": named, "message": outcome.message,
            "seconds": round(outcome.timings["total"] + time.perf_counter() - started, 2)}


def delete_files(owner_id: int, job_id: int, params: dict) -> None:
    """What a video analysis job left on disk: its analysis folder, any leftovers, and its staged upload.

    Called by the job system when the job is deleted from the history; the rows go with the job (CASCADE)."""
    key = files.job_key(job_id)
    files.clear_leftovers(owner_id, key)
    files.remove(files.owner_root(owner_id) / key)
    if params.get("upload"):
        shutil.rmtree(Path(params["upload"]).parent, ignore_errors=True)
