"""yt-dlp behind two calls: `probe` a link for what the feed shows, `download` it to one file.

Every request yt-dlp makes (the page, each redirect hop, the media itself) passes
`core.videos.urls.check_url` first, through a request handler installed in yt-dlp: a public page that
redirects to 169.254.169.254 is refused before anything connects there. Its connections then
resolve the name once more, check those addresses and connect to exactly them, and every read is
held to a time limit and a minimum speed (`core.videos.transfer`), so neither DNS rebinding nor a
server that trickles one byte every few seconds gets through. The handler subclasses yt-dlp's
RequestsRH and overrides `_send`/`_create_instance`, yt-dlp's extension points for handlers; they
are internal, so the pinned yt-dlp is what the tests vouch for.

Downloads are single files only, never merged, so no ffmpeg is needed. They land in the download
cache (`core.videos.download_cache`: one folder per video, named by a hash of the link, a YouTube
link by its video id; one fetch per video however many people ask; a size quota); a second
download of the same video is served from there without any network.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urljoin

import yt_dlp
from yt_dlp.networking import Request
from yt_dlp.networking._requests import RequestsRH
from yt_dlp.networking.exceptions import HTTPError, RequestError, TransportError
from yt_dlp.utils import DownloadCancelled, UnsupportedError

from core.config import get_settings
from core.videos.download_cache import DownloadCache, IncompleteDownload
from core.videos.transfer import Meter, TransferLimitExceeded, TransferLimits, pool_classes
from core.videos.urls import (
    IPAddress,
    UnresolvableHost,
    UnsafeUrl,
    UrlError,
    YouTubeRef,
    check_url,
    checked_addresses,
    normalise_url,
    parse_youtube,
)

SINGLE_FILE_FORMAT = "best[acodec!=none][vcodec!=none]/best"
SOCKET_TIMEOUT_S = 10
NO_VIDEO = "WebTube found no video at this link; it may not be a video page."
_LOG = logging.getLogger(__name__)

ProbeReason = Literal["offline", "unsupported", "private", "unavailable", "unsafe", "invalid", "too_slow"]
DownloadReason = Literal["too_large", "too_slow", "no_single_file_format", "offline", "failed"]
Progress = Callable[[float | None, str], None]


class MediaError(Exception):
    """Base of the downloader's errors: `reason` is for code, `message` (and `str()`) for people."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class ProbeError(MediaError):
    """The link cannot be shared as a video; `reason` is one of ProbeReason."""

    reason: ProbeReason

    def __init__(self, reason: ProbeReason, message: str) -> None:
        super().__init__(reason, message)


class DownloadError(MediaError):
    """The video was found but could not be saved; `reason` is one of DownloadReason."""

    reason: DownloadReason

    def __init__(self, reason: DownloadReason, message: str) -> None:
        super().__init__(reason, message)


@dataclass
class VideoInfo:
    """What the feed and the video page need to know about a shared link."""

    original_url: str
    canonical_url: str
    site: str
    title: str | None
    thumbnail_url: str | None
    duration_s: float | None
    uploader: str | None
    embed_url: str | None
    media_url: str | None
    size_bytes: int | None = None  # as the site reports it (yt-dlp's filesize or its estimate)


@dataclass(frozen=True)
class _Policy:
    """Which URLs yt-dlp may fetch and how: the same rules for the link and every request after it."""

    allow_private: bool
    allowed_hosts: frozenset[str]
    proxy: str | None

    @classmethod
    def make(cls, allow_private: bool | None, allowed_hosts: Collection[str], proxy: str | None) -> _Policy:
        if allow_private is None:
            allow_private = get_settings().allow_private_urls
        return cls(allow_private, frozenset(allowed_hosts), proxy)

    def check(self, url: str) -> str:
        return check_url(url, self.allow_private, allowed_hosts=self.allowed_hosts)

    def addresses(self, host: str, port: int) -> list[IPAddress]:
        """The addresses a connection to `host` may use: resolved once, each one checked."""
        return checked_addresses(host, port, self.allow_private, self.allowed_hosts)

    def viewer_safe(self, url: str | None) -> str | None:
        """`url` if it passes the same check (so a page cannot point viewers at a private address), else None."""
        if not url:
            return None
        try:
            return self.check(url)
        except UrlError:
            return None


class _RefusedRequest(RequestError):
    """yt-dlp's view of a request `check_url` refused; not a TransportError, so it is not retried."""


class _GuardedRequestsRH(RequestsRH):
    """yt-dlp's `requests` handler: every request and redirect target checked first, connections pinned and metered."""

    def __init__(self, *, policy: _Policy, meter: Meter, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._policy = policy
        self._meter = meter

    def _create_instance(self, **kwargs: Any) -> Any:
        session = super()._create_instance(**kwargs)
        session.hooks["response"].append(self._check_redirect)
        for adapter in session.adapters.values():
            self._guard(adapter)
        return session

    def _guard(self, adapter: Any) -> None:
        """Direct connections: pinned to checked addresses. Connections to an http(s) proxy: metered."""
        adapter.poolmanager.pool_classes_by_scheme = pool_classes(self._meter, self._policy.addresses)
        make_proxy_manager = adapter.proxy_manager_for

        def proxy_manager_for(proxy: str, **kwargs: Any) -> Any:
            manager = make_proxy_manager(proxy, **kwargs)
            if not proxy.lower().startswith("socks"):
                manager.pool_classes_by_scheme = pool_classes(self._meter, None)
            return manager

        adapter.proxy_manager_for = proxy_manager_for

    def _check_redirect(self, response: Any, **_: Any) -> None:
        """Runs on each response before `requests` follows it, so a refused hop is never fetched."""
        if response.is_redirect:
            self._policy.check(urljoin(response.url, response.headers["location"]))

    def _send(self, request: Any) -> Any:
        try:
            self._meter.check()
            self._policy.check(request.url)
            return super()._send(request)
        except (UrlError, TransferLimitExceeded) as exc:
            raise _RefusedRequest(str(exc), cause=exc) from exc


class _GuardedYoutubeDL(yt_dlp.YoutubeDL):
    """A YoutubeDL whose only way out is the guarded handler (no urllib, websockets or curl fallback)."""

    def __init__(self, params: dict[str, Any], policy: _Policy, meter: Meter) -> None:
        self._policy = policy
        self._meter = meter
        super().__init__(params)

    def build_request_director(self, handlers: Any, preferences: Any = None) -> Any:
        guarded = functools.partial(_GuardedRequestsRH, policy=self._policy, meter=self._meter)
        return super().build_request_director([guarded], preferences)


class _YtdlpLog:
    """yt-dlp's chatter goes to this module's debug log: nothing on the console, all of it on demand."""

    def debug(self, msg: str) -> None:
        _LOG.debug(msg)

    info = warning = error = debug


def probe(
    url: str,
    offline_fallback: bool = False,
    *,
    proxy: str | None = None,
    allow_private: bool | None = None,
    allowed_hosts: Collection[str] = (),
    limits: TransferLimits | None = None,
) -> VideoInfo:
    """What `url` holds, without downloading it.

    With `offline_fallback`, a YouTube link still gives ids, thumbnail and player when the
    network is down (title None); other links raise ProbeError("offline"). `proxy` is handed to
    yt-dlp; `allow_private`/`allowed_hosts` are as in `check_url` (None reads the settings).
    A thumbnail or video file the page names on an address that check refuses is dropped.
    `limits` defaults to `TransferLimits.for_probe()`.
    """
    policy = _Policy.make(allow_private, allowed_hosts, proxy)
    meter = Meter(limits or TransferLimits.for_probe())
    original = url.strip()
    try:
        checked = _checked(original, policy)
        with _GuardedYoutubeDL(_params(policy), policy, meter) as ydl:
            info = _extract(ydl, checked, meter)
    except ProbeError as exc:
        ref = parse_youtube(original)
        if exc.reason == "offline" and offline_fallback and ref is not None:
            return _offline_youtube_info(original, ref)
        raise
    return _video_info(original, info, policy)


def _offline_youtube_info(original: str, ref: YouTubeRef) -> VideoInfo:
    """All a YouTube link tells without the network: enough for a card and a player, no title."""
    return VideoInfo(
        original_url=original,
        canonical_url=ref.canonical_url,
        site="Youtube",
        title=None,
        thumbnail_url=ref.thumbnail_url,
        duration_s=None,
        uploader=None,
        embed_url=ref.embed_url,
        media_url=None,
    )


def download(
    url: str,
    cache_dir: Path,
    max_bytes: int,
    progress: Progress | None = None,
    *,
    proxy: str | None = None,
    allow_private: bool | None = None,
    allowed_hosts: Collection[str] = (),
    limits: TransferLimits | None = None,
    quota_bytes: int | None = None,
) -> Path:
    """Save the video at `url` as one file under `cache_dir` and return its path.

    A cached copy is returned without touching the network; while one caller fetches a video,
    others asking for it wait for that fetch. Raises ProbeError when the link itself is refused
    or not a video, DownloadError when the file cannot be saved (more than `max_bytes`, slower
    than `limits`, no single-file format, network lost, other failure); nothing partial is left.
    `progress(fraction, message)` gets fractions 0..1 (None while the size is unknown).
    `limits` defaults to the settings' time limit and minimum speed, `quota_bytes` to
    WEBTUBE_DOWNLOAD_CACHE_MB.
    """
    report = progress or _ignore_progress
    if quota_bytes is None:
        quota_bytes = get_settings().download_cache_mb * 1_000_000
    cache = DownloadCache(cache_dir, quota_bytes)
    key = _cache_key(url)
    cached = cache.lookup(key)
    if cached is not None:
        report(1.0, f"Already downloaded: {cached.name}")
        return cached
    policy = _Policy.make(allow_private, allowed_hosts, proxy)
    checked = _checked(url.strip(), policy)

    def fetch(staging: Path, relay: Progress) -> None:
        relay(None, "Looking up the video…")
        _download_into(staging, checked, policy, max_bytes, relay, Meter(limits or TransferLimits.for_download()))

    try:
        result = cache.fetch_once(key, fetch, report)
    except IncompleteDownload as exc:
        raise DownloadError("failed", str(exc)) from exc
    report(1.0, f"Downloaded {result.name}")
    return result


def cached_file(url: str, cache_dir: Path) -> Path | None:
    """The cached copy of the video at `url`, or None; never touches the network."""
    return DownloadCache(cache_dir, get_settings().download_cache_mb * 1_000_000).lookup(_cache_key(url))


def fetch_bytes(
    url: str,
    max_bytes: int,
    *,
    proxy: str | None = None,
    allow_private: bool | None = None,
    allowed_hosts: Collection[str] = (),
    limits: TransferLimits | None = None,
) -> bytes:
    """The body at `url` (an image, say), fetched by the same guarded client as videos: checked, pinned, metered.

    Raises ProbeError for a refused link, DownloadError("too_large") past `max_bytes` and
    DownloadError for any other failure.
    """
    policy = _Policy.make(allow_private, allowed_hosts, proxy)
    meter = Meter(limits or TransferLimits.for_probe())
    checked = _checked(url.strip(), policy)
    try:
        with _GuardedYoutubeDL(_params(policy), policy, meter) as ydl, ydl.urlopen(checked) as response:
            body = response.read(max_bytes + 1)
    except (yt_dlp.utils.DownloadError, RequestError) as exc:
        raise _download_error(exc, meter) from exc
    if len(body) > max_bytes:
        raise DownloadError("too_large", f"The file is larger than the {_megabytes(max_bytes)} limit.")
    return body


@dataclass(frozen=True)
class Answer:
    """An HTTP answer read whole: its status (errors included), headers and body."""

    status: int
    headers: dict[str, str]
    body: bytes


def fetch_answer(
    url: str,
    max_bytes: int,
    *,
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
    allow_private: bool | None = None,
    allowed_hosts: Collection[str] = (),
    limits: TransferLimits | None = None,
) -> Answer:
    """The answer at `url` (a POST when `data` is given) through the same guarded client as `fetch_bytes`.

    Why beside it: an API says what went wrong in the body of a 4xx/5xx answer (Yandex.Disk's JSON error),
    which `fetch_bytes` turns into one generic failure; here an error status is an answer like any other.
    A refused link or redirect, a lost connection, a slow server and a body over `max_bytes` raise as in
    `fetch_bytes`. The URL and the data never appear in an error, so a token sent in `data` stays out.
    """
    policy = _Policy.make(allow_private, allowed_hosts, None)
    meter = Meter(limits or TransferLimits.for_probe())
    request = Request(_checked(url.strip(), policy), data=data, headers=headers or {})
    try:
        with _GuardedYoutubeDL(_params(policy), policy, meter) as ydl:
            try:
                response = ydl.urlopen(request)
            except HTTPError as exc:
                response = exc.response
            with response:
                body = response.read(max_bytes + 1)
                status, answer_headers = response.status, {k.lower(): v for k, v in response.headers.items()}
    except (yt_dlp.utils.DownloadError, RequestError) as exc:
        raise _download_error(exc, meter) from exc
    if len(body) > max_bytes:
        raise DownloadError("too_large", f"The answer is larger than the {_megabytes(max_bytes)} limit.")
    return Answer(status, answer_headers, body)


def _checked(url: str, policy: _Policy) -> str:
    try:
        return policy.check(url)
    except UnresolvableHost as exc:
        raise ProbeError("offline", str(exc)) from exc
    except UnsafeUrl as exc:
        raise ProbeError("unsafe", str(exc)) from exc
    except UrlError as exc:
        raise ProbeError("invalid", str(exc)) from exc


def _params(policy: _Policy, **extra: Any) -> dict[str, Any]:
    """Options shared by probe and download: one video, one file, quiet, no ffmpeg, no disk cache.

    A video with no single-file format still probes (it can be linked, just not saved), so
    format selection may come up empty; `download` checks for that itself.
    """
    params: dict[str, Any] = {
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "logger": _YtdlpLog(),
        "skip_download": True,
        "noplaylist": True,
        "playlist_items": "1",
        "extract_flat": False,
        "socket_timeout": SOCKET_TIMEOUT_S,
        "format": SINGLE_FILE_FORMAT,
        "format_sort": ["ext:mp4:m4a"],
        "external_downloader": {"default": "native"},
        "fixup": "never",
        "ignore_no_formats_error": True,
        "cachedir": False,
        **extra,
    }
    if policy.proxy is not None:
        params["proxy"] = policy.proxy
    return params


def _extract(ydl: yt_dlp.YoutubeDL, url: str, meter: Meter) -> dict[str, Any]:
    """yt-dlp's info for the one video at `url` (the first entry of a playlist page)."""
    try:
        info = ydl.extract_info(url, download=False)
    except (yt_dlp.utils.DownloadError, RequestError) as exc:
        if meter.exceeded is not None:
            raise ProbeError("too_slow", str(meter.exceeded)) from exc
        raise _probe_error(exc) from exc
    if info is None:
        raise ProbeError("unavailable", "The site did not describe any video at this link.")
    if info.get("_type") == "playlist":
        entries = [entry for entry in info.get("entries") or [] if entry]
        if not entries:
            raise ProbeError("unsupported", "This link is a playlist with no video WebTube can show.")
        info = entries[0]
    return info


def _video_info(original: str, info: dict[str, Any], policy: _Policy) -> VideoInfo:
    """The record of a probe; links the page names for viewers' browsers must pass the policy's check."""
    ref = parse_youtube(original) or parse_youtube(info.get("webpage_url") or "")
    if ref is None and not (info.get("formats") or info.get("url")):
        raise ProbeError("unsupported", NO_VIDEO)
    if ref is not None:
        canonical, embed, media = ref.canonical_url, ref.embed_url, None
    else:
        canonical, embed, media = info.get("webpage_url") or original, None, policy.viewer_safe(_media_url(info))
    return VideoInfo(
        original_url=original,
        canonical_url=canonical,
        site=info.get("extractor_key") or "Generic",
        title=_title(info),
        thumbnail_url=policy.viewer_safe(info.get("thumbnail")) or (ref.thumbnail_url if ref else None),
        duration_s=float(info["duration"]) if info.get("duration") else None,
        uploader=info.get("uploader"),
        embed_url=embed,
        media_url=media,
        size_bytes=_reported_size(info),
    )


def _reported_size(info: dict[str, Any]) -> int | None:
    size = info.get("filesize") or info.get("filesize_approx")
    return int(size) if isinstance(size, int | float) and size > 0 else None


def _title(info: dict[str, Any]) -> str | None:
    """yt-dlp numbers a page's <video> tags ("Page (1)"); the first one is the page's video, titled as the page."""
    title = info.get("title")
    if title and info.get("extractor_key") == "HTML5MediaEmbed":
        return title.removesuffix(" (1)")
    return title


def _media_url(info: dict[str, Any]) -> str | None:
    """The selected format's URL when a browser can play it directly (one progressive http(s) file)."""
    if info.get("requested_formats") or info.get("protocol") not in {"http", "https"}:
        return None
    return info.get("url")


_PRIVATE_HINTS = ("private video", "sign in", "members-only", "members only", "login required", "log in")
_UNAVAILABLE_HINTS = ("unavailable", "removed", "no longer available", "not available", "does not exist")


def _probe_error(exc: BaseException) -> ProbeError:
    """Turn yt-dlp's failure into a reason and a sentence a person can act on."""
    causes = list(_causes(exc))
    refused = next((cause for cause in causes if isinstance(cause, UrlError)), None)
    if isinstance(refused, UnresolvableHost):
        return ProbeError("offline", str(refused))
    if refused is not None:
        return ProbeError("unsafe", f"The site sent WebTube somewhere it may not go: {refused}")
    status = next((cause.status for cause in causes if isinstance(cause, HTTPError)), None)
    if status in {401, 403}:
        return ProbeError("private", "The site refused to show this video; it may be private or need signing in.")
    if status is not None:
        return ProbeError("unavailable", f"The site answered with an error (HTTP {status}); the video may be gone.")
    if any(isinstance(cause, TransportError) for cause in causes):
        return ProbeError("offline", "Cannot reach the site right now; this computer may be offline.")
    if any(isinstance(cause, UnsupportedError) for cause in causes):
        return ProbeError("unsupported", NO_VIDEO)
    text = str(exc).lower()
    if any(hint in text for hint in _PRIVATE_HINTS):
        return ProbeError("private", "This video is private or needs signing in.")
    if "unsupported url" in text:
        return ProbeError("unsupported", NO_VIDEO)
    if any(hint in text for hint in _UNAVAILABLE_HINTS):
        return ProbeError("unavailable", "This video is unavailable; it may have been removed.")
    return ProbeError("unavailable", "The site did not give WebTube this video.")


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything behind it: Python's chain and yt-dlp's `cause`/`exc_info`."""
    seen: set[int] = set()
    pending: list[object] = [exc]
    while pending:
        current = pending.pop(0)
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        exc_info = getattr(current, "exc_info", None)
        pending += [current.__cause__, current.__context__, getattr(current, "cause", None)]
        if isinstance(exc_info, tuple) and len(exc_info) > 1:
            pending.append(exc_info[1])


class _TooLarge(DownloadCancelled):
    """Raised from the progress hook to stop yt-dlp mid-download; DownloadCancelled is never retried."""


def _download_into(staging: Path, url: str, policy: _Policy, max_bytes: int, report: Progress, meter: Meter) -> None:
    params = _params(
        policy,
        skip_download=False,
        outtmpl=str(staging / "%(title).100B.%(ext)s"),
        restrictfilenames=True,
        progress_hooks=[_progress_hook(max_bytes, report)],
        updatetime=False,
        retries=3,
    )
    with _GuardedYoutubeDL(params, policy, meter) as ydl:
        info = _extract(ydl, url, meter)
        _require_single_file(info)
        _check_size(info.get("filesize") or info.get("filesize_approx"), max_bytes)
        info["title"] = _title(info)
        try:
            ydl.process_ie_result(info, download=True)
        except _TooLarge as exc:
            raise DownloadError("too_large", str(exc)) from exc
        except (yt_dlp.utils.DownloadError, RequestError) as exc:
            raise _download_error(exc, meter) from exc


def _require_single_file(info: dict[str, Any]) -> None:
    """Format selection found nothing: the site offers only separate sound and picture (or nothing)."""
    if info.get("requested_formats") or not info.get("url"):
        raise DownloadError(
            "no_single_file_format",
            "This site offers the video only as separate sound and picture streams, which WebTube does not merge.",
        )


def _check_size(size: float | None, max_bytes: int) -> None:
    if size and size > max_bytes:
        raise DownloadError(
            "too_large", f"This video is {_megabytes(size)}, more than the {_megabytes(max_bytes)} limit."
        )


def _progress_hook(max_bytes: int, report: Progress) -> Callable[[dict[str, Any]], None]:
    def hook(status: dict[str, Any]) -> None:
        if status.get("status") != "downloading":
            return
        done = status.get("downloaded_bytes") or 0
        total = status.get("total_bytes") or status.get("total_bytes_estimate")
        if max(done, total or 0) > max_bytes:
            raise _TooLarge(f"This video is larger than the {_megabytes(max_bytes)} limit, so it was not saved.")
        if total:
            report(min(done / total, 1.0), f"Downloading: {_megabytes(done)} of {_megabytes(total)}")
        else:
            report(None, f"Downloading: {_megabytes(done)}")

    return hook


def _download_error(exc: BaseException, meter: Meter) -> MediaError:
    if meter.exceeded is not None:
        return DownloadError("too_slow", str(meter.exceeded))
    probe_error = _probe_error(exc)
    if probe_error.reason == "offline":
        return DownloadError("offline", "The connection was lost during the download; please try again.")
    if probe_error.reason == "unsafe":
        return probe_error
    return DownloadError("failed", "The download failed; the site may be busy or the video gone.")


def _cache_key(url: str) -> str:
    """A folder name per video: YouTube links by video id, any other link by its normalised form."""
    ref = parse_youtube(url)
    try:
        key = ref.canonical_url if ref is not None else normalise_url(url)
    except UnsafeUrl as exc:
        raise ProbeError("unsafe", str(exc)) from exc
    except UrlError as exc:
        raise ProbeError("invalid", str(exc)) from exc
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _megabytes(size: float) -> str:
    return f"{size / 1_000_000:.1f} MB"


def _ignore_progress(fraction: float | None, message: str) -> None:
    """Progress sink when the caller does not watch."""
