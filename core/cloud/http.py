"""Every request a cloud import makes goes through the project's guarded fetcher (core/videos/downloader.py).

So a provider's answer, or a redirect it sends, can never take the server to a private address (the URL
rules, DNS pinning, size caps and time limits of the video downloader apply to each call and each photo).
Host names in WEBTUBE_CLOUD_ALLOWED_HOSTS are exempt from the address check, by name only: a redirect from
one of them to 127.0.0.1 or 169.254.169.254 is still refused. Failures become CloudError sentences that
name the service, never the URL (a VK token travels in a POST body, so it is in no URL either).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from urllib.parse import urlencode

from core.cloud.errors import CloudError
from core.config import get_settings
from core.videos.downloader import Answer, MediaError, fetch_answer
from core.videos.transfer import TransferLimits

API_MAX_BYTES = 16 * 2**20  # one page of a listing (VK's 1000 photos with their sizes is about 2 MB)
DOWNLOAD_TRIES = 3  # a photo whose connection is cut is fetched again, this many times in all
RETRY_PAUSE_S = 1.0  # before the second try; the third waits twice as long
MAX_RETRY_AFTER_S = 30.0  # a provider's Retry-After is honoured up to this


def allowed_hosts() -> frozenset[str]:
    """WEBTUBE_CLOUD_ALLOWED_HOSTS as a set of lower-case names."""
    raw = get_settings().cloud_allowed_hosts
    return frozenset(part.strip().lower() for part in raw.split(",") if part.strip())


def call_api(url: str, service: str, *, query: Mapping[str, object] | None = None,
             form: Mapping[str, object] | None = None) -> Answer:
    """One API request (GET with `query`, or POST with `form`); any HTTP status comes back as an Answer."""
    full = f"{url}?{urlencode(query)}" if query else url
    data = urlencode(form).encode() if form is not None else None
    headers = {"Accept": "application/json"}
    if data is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        return fetch_answer(full, API_MAX_BYTES, data=data, headers=headers, allowed_hosts=allowed_hosts())
    except MediaError as exc:
        raise _failure(exc, service, "the album") from exc


def json_object(answer: Answer, service: str) -> dict:
    """The answer's body as a JSON object, or a sentence saying the service answered something else."""
    try:
        value = json.loads(answer.body)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise CloudError("failed", f"{service} answered with something WebTube cannot read (HTTP {answer.status}); "
                                   "try again later.")
    return value


def retry_after(answer: Answer, default: float) -> float:
    """The pause a rate-limited answer asks for (Retry-After in seconds), bounded."""
    try:
        wanted = float(answer.headers.get("retry-after", default))
    except ValueError:
        wanted = default
    return min(max(wanted, 0.0), MAX_RETRY_AFTER_S)


def download(url: str, max_bytes: int, service: str) -> bytes:
    """A photo's bytes; a cut connection or a busy server (5xx) is tried again, a refusal is not."""
    if not url:
        raise CloudError("failed", f"{service} gave no download link for this photo.")
    limits = TransferLimits.for_download()
    for attempt in range(1, DOWNLOAD_TRIES + 1):
        try:
            answer = fetch_answer(url, max_bytes, allowed_hosts=allowed_hosts(), limits=limits)
        except MediaError as exc:
            if exc.reason != "offline" or attempt == DOWNLOAD_TRIES:
                raise _failure(exc, service, "the photo", max_bytes, attempt) from exc
        else:
            if answer.status == 200:
                return answer.body
            if answer.status < 500 and answer.status != 429:
                raise CloudError("not_found", f"{service} no longer offers this photo (HTTP {answer.status}).")
            if attempt == DOWNLOAD_TRIES:
                raise CloudError("failed", f"{service} is busy and did not send this photo (HTTP {answer.status}); "
                                           "import the link again later to fetch it.")
        time.sleep(RETRY_PAUSE_S * attempt)
    raise AssertionError("unreachable: the last try returns or raises")


def _failure(exc: MediaError, service: str, what: str, max_bytes: int | None = None, tries: int = 1) -> CloudError:
    if exc.reason == "unsafe":
        return CloudError("refused", f"{service} sent WebTube to a private or local network address for {what}, "
                                     "so WebTube did not fetch it.")
    if exc.reason == "invalid":
        return CloudError("refused", f"{service} gave a link for {what} that WebTube cannot fetch.")
    if exc.reason == "too_large":
        limit = f"the {max_bytes / 2**20:g} MB limit" if max_bytes else "its size limit"
        return CloudError("too_large", f"{what.capitalize()} is larger than {limit}, so it was not downloaded.")
    if exc.reason == "too_slow":
        return CloudError("offline", str(exc))
    if exc.reason == "offline":
        tried = f" (tried {tries} times)" if tries > 1 else ""
        return CloudError("offline", f"The connection to {service} was lost while fetching {what}{tried}; "
                                     "please try again.")
    return CloudError("failed", f"{service} did not send {what}; try again later.")
