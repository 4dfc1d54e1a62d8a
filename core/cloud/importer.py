"""The "cloud_import" job kind: a pasted link's photos listed, downloaded and recorded by the studio's importer.

`start_cloud_import` checks the link (and that a VK link has a token) and the album name, and queues the job, so
the page, the command line and the HTTP API return at once. The job lists the photos through the link's adapter,
then makes the album (`source="cloud"`, `source_ref=<link>`; only now, so a link that fails leaves no empty
album; the job's `album_id` is set from then on) and records one JobItem per photo in one transaction:
a photo already in the library, by its provider id or by the SHA-256 the provider reports, is a duplicate
at once (joined to the album, never downloaded); a photo the provider says is over the photo cap fails at
once. The pending items then go through the same face batches as an upload (`jobs.import_pending`), each
one downloaded by the guarded fetcher (a cut connection is tried again); the importer's SHA-256 check
catches the photos whose bytes were already there. A resumed job does only the pending items.

The VK token is sealed in the job's parameters (`token_box`), opened only inside the job and dropped from
the row when the job ends, whatever the outcome; it is never logged or put in a message.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from sqlalchemy import func, select

from core.cloud import http, links, token_box
from core.cloud.errors import CloudError
from core.cloud.items import CloudItem, CloudSource
from core.config import get_settings
from core.faces.errors import ImageError
from core.jobs import queue
from core.jobs.context import JobContext, JobFailed
from core.jobs.runner import run_now
from core.storage.database import serialised_scope, session_scope
from core.storage.studio_models import Job, JobItem, Photo
from core.studio import jobs
from core.studio.errors import BadInput
from core.studio.importer import link_photo
from core.studio.library import clean_album_name, create_album
from core.studio.records import ImportSummary

KIND = "cloud_import"
WAIT_POLL_S = 0.5
ALREADY_HERE = "Already in the library (imported before from this link or another)."
NO_TOKEN = ("The VK access token is no longer kept (it is dropped when an import ends, and this one ended before "
            "the album was listed); import the link again with a token.")


def start_cloud_import(owner_id: int, link: str, album_name: str | None = None, token: str | None = None) -> int:
    """Queue the import of a Yandex.Disk public link or a VK album into `album_name` and return the job id.

    Raises CloudError (a BadInput) for a link no adapter takes or a VK link without a token; nothing is queued.
    """
    return _queue(owner_id, link, album_name, token, wake=True)


def run_cloud_import_now(owner_id: int, link: str, album_name: str | None = None,
                         token: str | None = None) -> ImportSummary:
    """The same import done in the calling thread (the command line); a failed listing raises its sentence."""
    started = time.monotonic()
    job_id = _queue(owner_id, link, album_name, token, wake=False)
    if run_now(job_id) is None:  # a `python -m core worker` on the same database took it first: wait for it
        while not queue.job_info(owner_id, job_id).finished:
            time.sleep(WAIT_POLL_S)
    info = queue.job_info(owner_id, job_id)
    if info.status == "failed":
        raise BadInput(info.error or "The cloud import failed.")
    return jobs.import_summary(job_id, time.monotonic() - started)


def _queue(owner_id: int, link: str, album_name: str | None, token: str | None, wake: bool) -> int:
    source = links.open_link(link, token)
    params: dict = {"link": source.link, "album_name": clean_album_name(album_name or source.default_album)}
    if links.needs_token(source.link):
        params[queue.SEALED] = token_box.seal((token or "").strip())
    return queue.enqueue(owner_id, KIND, params, wake=wake)


def run_cloud_import(ctx: JobContext) -> dict:
    """The job: list (once), then download and record the pending photos; the token goes when it ends."""
    try:
        if not _listed(ctx.id):
            _list(ctx)
        return jobs.import_pending(ctx, _reader(ctx.params["link"]))
    finally:
        forget_token(ctx.id)


def forget_token(job_id: int) -> None:
    """Drop the sealed token from the job's parameters once the job ends (a queued job cancelled before it ran
    loses it in `queue.cancel_job`). A retry then needs no token once the photos were listed: downloads use none."""
    with session_scope() as session:
        job = session.get(Job, job_id)
        params = queue.params_of(job) if job is not None else {}
        if params.pop(queue.SEALED, None) is not None:
            job.params = json.dumps(params)


def _listed(job_id: int) -> bool:
    with session_scope() as session:
        return bool(session.scalar(select(func.count()).where(JobItem.job_id == job_id)))


def _open(params: dict) -> CloudSource:
    sealed = params.get(queue.SEALED)
    if links.needs_token(params["link"]) and not sealed:
        raise JobFailed(NO_TOKEN)
    try:
        return links.open_link(params["link"], token_box.unseal(sealed) if sealed else None)
    except CloudError as exc:
        raise JobFailed(str(exc)) from exc


def _list(ctx: JobContext) -> None:
    """Every photo at the link, then the album (made only now: a link that lists nothing leaves no empty album)
    and all the photos recorded as the job's items in one transaction."""
    source = _open(ctx.params)
    ctx.progress(0, stage="Listing the photos at the link", force=True)
    found: list[CloudItem] = []
    try:
        for item in source.list_items():
            found.append(item)
            ctx.progress(0, stage=f"Listing the photos at the link: {len(found)} so far")
    except CloudError as exc:
        raise JobFailed(str(exc)) from exc
    if not found:
        raise JobFailed("There are no photos at this link.")
    ctx.params["album_id"] = create_album(ctx.owner_id, ctx.params["album_name"], "cloud", ctx.params["link"]).id
    _record_items(ctx, found)


def _record_items(ctx: JobContext, found: list[CloudItem]) -> None:
    cap = get_settings().max_upload_mb * 2**20
    album_id = ctx.params["album_id"]
    with serialised_scope() as session:
        if not ctx.still_mine(session) or session.scalar(select(func.count()).where(JobItem.job_id == ctx.id)):
            return  # taken over, or another run listed it first
        by_id = dict(session.execute(select(Photo.source_id, Photo.id).where(
            Photo.owner_id == ctx.owner_id, Photo.source_id.in_({item.source_id for item in found}))).all())
        by_sha = {sha: (photo_id, source_id) for sha, photo_id, source_id in session.execute(
            select(Photo.sha256, Photo.id, Photo.source_id).where(
                Photo.owner_id == ctx.owner_id, Photo.status != "failed",
                Photo.sha256.in_({item.sha256 for item in found if item.sha256})))}
        done = failures = 0
        for seq, item in enumerate(found):
            status, message, photo_id = "pending", None, by_id.get(item.source_id)
            if photo_id is None and item.sha256 in by_sha:
                photo_id, known_id = by_sha[item.sha256]
                if known_id is None:  # the same bytes came another way: from now on it is skipped by id too
                    session.get_one(Photo, photo_id).source_id = item.source_id
            if photo_id is not None:
                status, message = "duplicate", ALREADY_HERE
                link_photo(session, album_id, photo_id)
            elif item.size is not None and item.size > cap:
                status, message = "failed", (f"The photo is {item.size / 2**20:.1f} MB; photos can be at most "
                                             f"{cap // 2**20} MB.")
            elif len(item.url) > 2048:
                status, message = "failed", "The provider's download link for this photo is too long to keep."
            done += status != "pending"
            failures += status == "failed"
            session.add(JobItem(job_id=ctx.id, seq=seq, source=item.url if status == "pending" else "",
                                original_name=item.name[:255], origin=item.origin[:2048], status=status,
                                message=message, photo_id=photo_id, source_id=item.source_id[:300]))
        job = session.get_one(Job, ctx.id)
        job.total, job.done, job.failures, job.stage = len(found), done, failures, "Downloading and importing"
        job.params = json.dumps({**queue.params_of(job), "album_id": album_id})  # the history opens the album


def _reader(link: str) -> Callable[[dict], bytes]:
    """How the face batches get a cloud item's bytes: downloaded within the photo cap, failures as its line."""
    cap = get_settings().max_upload_mb * 2**20
    service = "VK" if links.needs_token(link) else "Yandex.Disk"

    def read(item: dict) -> bytes:
        try:
            return http.download(item["source"], cap, service)
        except CloudError as exc:
            raise ImageError(str(exc)) from exc

    return read
