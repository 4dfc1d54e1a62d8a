"""The "video_details" job: fill in what a share could not learn, once the site or the file can be read.

Two cases. A link shared while its site was unreachable (a YouTube link offline is saved as
"YouTube video <id>"; any other link only with a typed title) is probed again; while the site
stays unreachable the job fails with `UNREACHABLE`, and `retry_due` queues it again at most every
`RETRY_AFTER_S`, from the pages people open (the feed, a video page), for `GIVE_UP_AFTER` at most.
A direct video file (no thumbnail, often no length) is fetched into the download cache (guarded,
size-capped, the copy a later Download reuses) and PyAV reads its length and a frame for the cards.

Why a failed job retried on page views, not a job that waits for the network: the app has one job
thread by default, which imports and analyses share; a job sleeping until a site answers would hold
it. Failed jobs cost nothing while waiting, survive restarts in the jobs table, and show in the
sharer's Studio > History. The job only fills fields still empty (a typed title always stays), so
running it twice, or after a restart, changes nothing more.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import timedelta

from sqlalchemy import select

from core.config import get_settings
from core.jobs.context import JobContext, JobFailed
from core.jobs.queue import enqueue, retry_job
from core.jobs.runner import wake_runner
from core.storage.database import session_scope
from core.storage.models import Video, utcnow
from core.storage.studio_models import Job
from core.studio.errors import StudioError
from core.videos.download_cache import cache_root
from core.videos.downloader import MediaError, ProbeError, VideoInfo, download, probe
from core.videos.frames import NotAVideo, still
from core.videos.terms import index_terms
from core.videos.thumbnails import ThumbnailUnavailable, fetch_thumbnail, frame_url, save_thumbnail

KIND = "video_details"
UNREACHABLE = "The video's site could not be reached; WebTube asks it again later."
RETRY_AFTER_S = 300.0
GIVE_UP_AFTER = timedelta(days=7)
CHECK_EVERY_S = 30.0  # pages call retry_due on every run; the query runs at most this often per process
_RETRY_REASONS = frozenset({"offline", "too_slow"})
_LOG = logging.getLogger(__name__)
_checked_at = [-CHECK_EVERY_S]
_check_lock = threading.Lock()


def queue_details(owner_id: int, video_id: int, probe_again: bool, title_typed: bool) -> int:
    """Queue the details job for a video just shared; `probe_again` when the site was unreachable."""
    params = {"video_id": video_id, "probe_again": probe_again, "title_typed": title_typed}
    return enqueue(owner_id, KIND, params)


def run(ctx: JobContext) -> dict:
    """The job: probe again if asked, then a frame and the length of a direct file; returns what it filled in."""
    video_id = int(ctx.params["video_id"])
    filled: list[str] = []
    if ctx.params.get("probe_again"):
        ctx.progress(0, 2, stage="Asking the site about the video", force=True)
        url = _field(video_id, "original_url")
        if url is None:
            return {"filled": filled, "video": "deleted"}
        try:
            info = probe(url)
        except ProbeError as exc:
            if exc.reason in _RETRY_REASONS:
                raise JobFailed(UNREACHABLE) from exc
            raise JobFailed(f"The site did not describe the video: {exc.message}") from exc
        filled += _fill(ctx, video_id, info, title_typed=bool(ctx.params.get("title_typed")))
        _warm_thumbnail(_field(video_id, "thumbnail_url"))
    if ctx.keep_going():
        ctx.progress(1, 2, stage="Reading the video file", force=True)
        filled += _from_file(ctx, video_id)
    return {"filled": filled}


def _field(video_id: int, name: str) -> str | None:
    with session_scope() as session:
        video = session.get(Video, video_id)
        return getattr(video, name) if video is not None else None


def _fill(ctx: JobContext, video_id: int, info: VideoInfo, title_typed: bool) -> list[str]:
    """Set what is still empty from the probe; the stand-in title goes unless the person typed one."""
    from core.videos.sharing import probed_details  # sharing queues this job: imported here, not at the top

    found = probed_details(info)
    filled = []
    with session_scope() as session:
        video = session.get(Video, video_id)
        if video is None or not ctx.still_mine(session):
            return filled
        if not title_typed and info.title:
            video.title = found["title"]
            filled.append("title")
        for name in ("thumbnail_url", "duration_s", "uploader", "media_url", "size_bytes"):
            if getattr(video, name) is None and found[name] is not None:
                setattr(video, name, found[name])
                filled.append(name)
        if "title" in filled:
            session.flush()
            index_terms(session, video.id, video.title, video.comment)
    return filled


def _warm_thumbnail(url: str | None) -> None:
    """Fetch the site's thumbnail now, so the next card shows it instead of waiting for a retry."""
    if url:
        try:
            fetch_thumbnail(url)
        except (ThumbnailUnavailable, OSError) as exc:
            _LOG.info("thumbnail %s not cached: %s", url, exc)


def _from_file(ctx: JobContext, video_id: int) -> list[str]:
    """For a playable file with no thumbnail or no length: fetch it (the download cache's copy) and read both."""
    with session_scope() as session:
        video = session.get(Video, video_id)
        if video is None or video.media_url is None or (video.thumbnail_url and video.duration_s):
            return []
        media_url, canonical = video.media_url, video.canonical_url
    settings = get_settings()
    try:
        path = download(canonical, cache_root(), settings.download_max_mb * 1_000_000)
        frame = still(path)
    except (MediaError, NotAVideo) as exc:
        _LOG.info("no frame for video %s: %s", video_id, exc)
        return []
    thumbnail = frame_url(media_url, frame.at_s)
    save_thumbnail(thumbnail, frame.image)
    filled = []
    with session_scope() as session:
        video = session.get(Video, video_id)
        if video is None or not ctx.still_mine(session):
            return filled
        if video.thumbnail_url is None:
            video.thumbnail_url = thumbnail
            filled.append("thumbnail_url")
        if video.duration_s is None and frame.duration_s:
            video.duration_s = max(round(frame.duration_s), 1)
            filled.append("duration_s")
    return filled


def _jobs_for(session, video_id: int) -> list[Job]:
    """This video's details jobs, newest first (params is JSON text whose first key is the video id)."""
    prefix = json.dumps({"video_id": video_id})[:-1]
    query = select(Job).where(Job.kind == KIND, Job.params.like(f"{prefix},%") | (Job.params == prefix + "}"))
    return list(session.scalars(query.order_by(Job.id.desc())))


def details_notice(video_id: int) -> str | None:
    """A sentence for the video page while its details are missing because the site was unreachable."""
    retry_due()
    with session_scope() as session:
        jobs = [job for job in _jobs_for(session, video_id) if json.loads(job.params).get("probe_again")]
        if not jobs:
            return None
        latest = jobs[0]
        if latest.status in ("queued", "running"):
            return "WebTube is asking the video's site for its details (title, length, thumbnail)…"
        if latest.status == "failed":
            return (
                "The details of this video (title, length, thumbnail) could not be fetched: its site could not "
                "be reached. WebTube tries again later."
            )
    return None


def retry_due(force: bool = False) -> int:
    """Queue again the details jobs that failed because a site was unreachable, `RETRY_AFTER_S` ago or more,
    and wake the runner for details jobs still queued (from before a restart).

    Cheap enough for every page run: the queries run at most every `CHECK_EVERY_S` per process.
    """
    now_s = time.monotonic()
    with _check_lock:
        if not force and now_s - _checked_at[0] < CHECK_EVERY_S:
            return 0
        _checked_at[0] = now_s
    now = utcnow()
    with session_scope() as session:
        due = session.execute(
            select(Job.id, Job.owner_id).where(
                Job.kind == KIND,
                Job.status == "failed",
                Job.error == UNREACHABLE,
                Job.finished_at <= now - timedelta(seconds=RETRY_AFTER_S),
                Job.created_at >= now - GIVE_UP_AFTER,
            )
        ).all()
        waiting = session.scalar(select(Job.id).where(Job.kind == KIND, Job.status == "queued").limit(1))
    if waiting is not None:
        wake_runner()  # queued before a restart, when no runner was awake to take it
    retried = 0
    for job_id, owner_id in due:
        try:
            retry_job(owner_id, job_id)
            retried += 1
        except StudioError:  # retried, or deleted, by someone else meanwhile
            continue
    return retried
