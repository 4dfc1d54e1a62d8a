"""Sharing videos by URL, editing and deleting them.

A share is checked in the cheap order (input, URL safety, categories, duplicates) before the
slow probe, and written in one transaction; the (owner, canonical URL) unique constraint is
what finally refuses a double submission, not a prior check.

A link the site answers with no video in it (an article, a shop page) is refused whatever title
is typed. What a share could not learn (the site was unreachable, a video file has no thumbnail)
is filled in afterwards by a "video_details" job (`core.videos.details`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.storage.database import session_scope
from core.storage.models import Category, Video, utcnow
from core.videos.details import queue_details
from core.videos.downloader import ProbeError, VideoInfo, probe
from core.videos.records import CategoryInfo, VideoCard, VideoDetail, card, category_info, detail, with_cards
from core.videos.terms import index_terms
from core.videos.urls import UrlError, normalise_url, parse_youtube

MAX_COMMENT = 5000
MAX_TITLE = 200
MAX_CATEGORIES = 5
_GENERIC_EXTRACTORS = frozenset({"Generic", "HTML5MediaEmbed"})
RETRY_REASONS = frozenset({"offline", "too_slow"})  # worth asking the site again later
_SITE_NAMES = {"Youtube": "YouTube"}
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")  # Trojan Source's list


class VideoError(ValueError):
    """Base of every sharing error; the message is written for the person who shared."""


class InvalidInput(VideoError):
    """A comment, title or category choice the site does not accept."""


class RefusedUrl(VideoError):
    """Not an http(s) URL, or one that points into a private network."""


class ProbeFailed(VideoError):
    """The site could not tell us about the video; `reason` is the downloader's (offline, private, ...)."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(f"{message} You can still save the link: type a title for it and share again.")


class NoVideoFound(VideoError):
    """The site answered, and there is no video at the link: a typed title does not make it one."""


class DuplicateVideo(VideoError):
    pass


class VideoNotFound(VideoError):
    pass


class NotYourVideo(VideoError):
    pass


def _invisible(ch: str) -> bool:
    """Control, format (right-to-left override, zero-width), private-use, surrogate or unassigned: Unicode's C*."""
    return unicodedata.category(ch).startswith("C")


def clean_comment(comment: str) -> str:
    """Keep the text exactly as typed (it is shown as text, never as markup), minus outer blank lines.

    Line breaks and tabs stay; other control characters and the bidirectional overrides and isolates,
    which can make shown text read differently from what is stored, are refused. Zero-width joiners
    stay: Persian, Indic scripts and emoji sequences need them, and `st.text` shows them harmlessly.
    """
    text = (comment or "").replace("\r\n", "\n").strip()
    if len(text) > MAX_COMMENT:
        raise InvalidInput(f"Comments can be at most {MAX_COMMENT:,} characters; this one has {len(text):,}.")
    if any((unicodedata.category(ch) == "Cc" and ch not in "\n\t") or ch in _BIDI_CONTROLS for ch in text):
        raise InvalidInput("The comment contains invisible control characters or text-direction overrides.")
    return text


def clean_title(title: str) -> str:
    """One line, 1 to 200 characters, nothing invisible (as for display names): no reversed or hidden text."""
    text = " ".join((title or "").split())
    if not text:
        raise InvalidInput("Please give the video a title.")
    if len(text) > MAX_TITLE:
        raise InvalidInput(f"Titles can be at most {MAX_TITLE} characters; this one has {len(text)}.")
    if any(_invisible(ch) for ch in text):
        raise InvalidInput("The title contains invisible control or formatting characters.")
    return text


def _probed_title(title: str | None, fallback: str) -> str:
    """A site's own title cannot be refused, so its invisible characters are dropped instead."""
    text = " ".join("".join(ch for ch in title or "" if not _invisible(ch)).split()) or fallback
    return text if len(text) <= MAX_TITLE else text[: MAX_TITLE - 1] + "…"


def _web_url(url: str | None) -> str | None:
    """Only http(s) addresses reach an <img> or <video> tag; anything else a site reports is dropped."""
    return url if url and urlsplit(url).scheme in {"http", "https"} else None


def _categories(session: Session, slugs: Iterable[str]) -> list[Category]:
    wanted = list(dict.fromkeys(slugs))
    if len(wanted) > MAX_CATEGORIES:
        raise InvalidInput(f"Choose at most {MAX_CATEGORIES} categories.")
    found = list(session.scalars(select(Category).where(Category.slug.in_(wanted)))) if wanted else []
    unknown = set(wanted) - {c.slug for c in found}
    if unknown:
        raise InvalidInput(f"Unknown category: {', '.join(sorted(unknown))}.")
    return found


def list_categories() -> list[CategoryInfo]:
    with session_scope() as session:
        return [category_info(c) for c in session.scalars(select(Category).order_by(Category.name))]


def _already_shared(session: Session, owner_id: int, urls: Sequence[str]) -> None:
    match = session.scalar(
        select(Video).where(
            Video.owner_id == owner_id, or_(Video.canonical_url.in_(urls), Video.original_url.in_(urls))
        )
    )
    if match is not None:
        raise DuplicateVideo(f"You already shared this video as “{match.title}”.")


def _site_name(info: VideoInfo) -> str:
    """yt-dlp's extractor name, except for its catch-all extractors, where the site's host says more."""
    if info.site in _GENERIC_EXTRACTORS:
        return (urlsplit(info.canonical_url).hostname or "web")[:80]
    return _SITE_NAMES.get(info.site, info.site)[:80]


def _fallback_title(info: VideoInfo) -> str:
    """A title when the site gave none (YouTube while offline): 'YouTube video <id>' or the link itself."""
    ref = parse_youtube(info.canonical_url)
    return f"YouTube video {ref.video_id}" if ref else info.canonical_url


def probed_details(info: VideoInfo) -> dict[str, Any]:
    """The Video columns a probe gives, cleaned as stored: shown titles, http(s) links only, whole seconds."""
    return {
        "title": _probed_title(info.title, _fallback_title(info)),
        "thumbnail_url": _web_url(info.thumbnail_url),
        "duration_s": max(round(info.duration_s), 1) if info.duration_s else None,
        "uploader": info.uploader[:200] if info.uploader else None,
        "media_url": _web_url(info.media_url),
        "size_bytes": info.size_bytes,
    }


def _manual_info(url: str, title: str) -> VideoInfo:
    return VideoInfo(url, url, "Generic", title, None, None, None, None, None)


def _probe(url: str, typed_title: str | None) -> tuple[VideoInfo, bool]:
    """The probe's answer, and whether it was cut short by the network (so the details are fetched again later)."""
    try:
        info = probe(url, offline_fallback=True)
    except ProbeError as exc:
        if exc.reason in {"unsafe", "invalid"}:
            raise RefusedUrl(exc.message) from exc
        if exc.reason == "unsupported":
            raise NoVideoFound(f"{exc.message} Only links to a video page or a video file can be shared.") from exc
        if typed_title is None:
            raise ProbeFailed(exc.reason, exc.message) from exc
        return _manual_info(url, typed_title), exc.reason in RETRY_REASONS
    offline_youtube = info.title is None and parse_youtube(info.canonical_url) is not None
    return info, offline_youtube


def share_video(
    owner_id: int, url: str, comment: str = "", categories: Iterable[str] = (), title: str = ""
) -> VideoCard:
    """Probe `url` and save it for `owner_id`; a typed `title` wins over the site's and rescues a failed probe.

    The probe checks the link's safety itself (scheme, private addresses, every redirect), so a
    link it refuses is refused here whatever the title; YouTube links work offline.
    """
    text = clean_comment(comment)
    typed_title = clean_title(title) if title.strip() else None
    try:
        link = normalise_url(url or "")
    except UrlError as exc:
        raise RefusedUrl(str(exc)) from exc
    youtube = parse_youtube(link)
    with session_scope() as session:
        _categories(session, categories)
        _already_shared(session, owner_id, [link, *([youtube.canonical_url] if youtube else [])])
    info, cut_short = _probe(link, typed_title)
    try:
        with session_scope() as session:
            _already_shared(session, owner_id, [info.canonical_url])
            found = probed_details(info)
            video = Video(
                owner_id=owner_id,
                original_url=link,
                canonical_url=info.canonical_url,
                site=_site_name(info),
                title=typed_title or found["title"],
                thumbnail_url=found["thumbnail_url"],
                duration_s=found["duration_s"],
                uploader=found["uploader"],
                media_url=found["media_url"],
                size_bytes=found["size_bytes"],
                comment=text,
                created_at=utcnow(),
                categories=_categories(session, categories),
            )
            session.add(video)
            session.flush()
            index_terms(session, video.id, video.title, video.comment)
            session.refresh(video)
            shared = card(video)
            from_file = video.media_url is not None and (video.thumbnail_url is None or video.duration_s is None)
    except IntegrityError as exc:  # a second submission of the same link that raced past the check
        raise DuplicateVideo("You already shared this video.") from exc
    if cut_short or from_file:
        queue_details(owner_id, shared.id, probe_again=cut_short, title_typed=typed_title is not None)
    return shared


def get_video(video_id: int) -> VideoDetail:
    with session_scope() as session:
        video = session.scalar(with_cards(select(Video).where(Video.id == video_id)))
        if video is None:
            raise VideoNotFound("This video does not exist (any more).")
        return detail(video)


def videos_of(owner_id: int) -> list[VideoDetail]:
    """One person's videos, newest first, with what their editor needs."""
    with session_scope() as session:
        query = select(Video).where(Video.owner_id == owner_id).order_by(Video.created_at.desc(), Video.id.desc())
        return [detail(v) for v in session.scalars(with_cards(query))]


def _owned(session: Session, owner_id: int, video_id: int) -> Video:
    video = session.get(Video, video_id)
    if video is None:
        raise VideoNotFound("This video does not exist (any more).")
    if video.owner_id != owner_id:
        raise NotYourVideo("Only the person who shared a video can change or delete it.")
    return video


def update_video(owner_id: int, video_id: int, title: str, comment: str, categories: Iterable[str]) -> VideoDetail:
    """Change what the owner wrote about a video; its words are re-indexed for similar videos."""
    new_title, new_comment = clean_title(title), clean_comment(comment)
    with session_scope() as session:
        video = _owned(session, owner_id, video_id)
        video.title, video.comment = new_title, new_comment
        video.categories = _categories(session, categories)
        session.flush()
        index_terms(session, video.id, video.title, video.comment)
        session.refresh(video)
        return detail(video)


def delete_video(owner_id: int, video_id: int) -> None:
    """Delete a video; its categories and words go with it (ON DELETE CASCADE)."""
    with session_scope() as session:
        session.delete(_owned(session, owner_id, video_id))
