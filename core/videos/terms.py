"""The word index of videos: each video's distinct title and comment words, written with the video.

Similar videos read it (see core/videos/similar.py); keeping it in the database, beside the video, means
it is always in step with what people wrote and needs no rebuilding.
"""

from __future__ import annotations

import re

from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from core.storage.models import VideoTerm

MAX_TERMS = 64
_WORD = re.compile(r"[^\W_]+")
STOPWORDS = frozenset(
    """a about after all also an and any are as at be been but by can could did do does for from had has have he her
    his how i if in into is it its just me more most my no not of on one or our out over she so some than that the
    their them then there these they this to too up us very was we were what when which who why will with would you
    your video videos""".split()  # noqa: SIM905 (a word list reads better as text)
)


def terms(title: str, comment: str) -> list[str]:
    """Distinct index words, title first, lower case; no stop words, numbers or one-letter words."""
    found: dict[str, None] = {}
    for word in _WORD.findall(f"{title}\n{comment}".casefold()):
        if len(word) < 2 or len(word) > 40 or word.isdigit() or word in STOPWORDS:
            continue
        found.setdefault(word)
        if len(found) == MAX_TERMS:
            break
    return list(found)


def index_terms(session: Session, video_id: int, title: str, comment: str) -> None:
    """(Re)write one video's words; call in the transaction that writes the video."""
    session.execute(delete(VideoTerm).where(VideoTerm.video_id == video_id))
    words = terms(title, comment)
    if words:
        session.execute(insert(VideoTerm), [{"term": w, "video_id": video_id} for w in words])
