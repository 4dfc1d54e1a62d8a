"""Similar videos: shared categories plus shared words of title and comment, found by SQL.

Each video's distinct words are kept in `video_terms` (an inverted index written with the
video), so finding candidates reads only the rows of the words and categories the video has,
never the whole table. A word's weight is its inverse document frequency (rare words say more),
doubled when it is in the title; only the video's 16 weightiest words are matched, and words in
more than 2% of videos (at least 50, at most 1,000) are ignored, which bounds the rows read
whatever the text; a word's videos are counted only up to that bound. Only the newest 2,000
videos of each category are candidates from the category side. Both bounds keep it quick at a
million videos (bench/bench_feed_postgres.py) and change nothing up to 50,000 videos with
categories of up to 2,000. The score is half the share of the video's categories a candidate also has and
half the share of its word weight; ties go to the later-shared video. When fewer candidates share
anything than the page shows, the newest other videos fill the list, so its length is fixed.
"""

from __future__ import annotations

import math

from sqlalchemy import Select, case, desc, func, select, union_all
from sqlalchemy.orm import Session, aliased

from core.storage.database import session_scope
from core.storage.models import Video, VideoTerm, video_categories
from core.videos.counts import video_count
from core.videos.records import VideoCard, card, with_cards
from core.videos.sharing import VideoNotFound
from core.videos.terms import terms

SIMILAR_COUNT = 6
POOL = 200  # candidates kept from each side (categories, words) before exact scoring
MATCH_WORDS = 16
MAX_COMMON = 1_000  # a word in more videos than this says little about any of them
CATEGORY_POOL = 2_000  # newest videos of each category considered


def _document_frequencies(session: Session, video: Video, bound: int) -> dict[str, int]:
    """Each of the video's indexed words and how many videos have it, counted no further than `bound`: one
    statement of one shape whatever the words (so compiled once), reading at most `bound` index entries a word."""
    own, other = aliased(VideoTerm), aliased(VideoTerm)
    having = select(other.video_id).where(other.term == own.term).limit(bound).correlate(own).subquery()
    counted = select(func.count()).select_from(having).scalar_subquery()
    return {word: n for word, n in session.execute(select(own.term, counted).where(own.video_id == video.id))}


def _newest(category_id: int, video: Video) -> Select[tuple[int]]:
    """Ids of the category's newest `CATEGORY_POOL` videos other than `video`."""
    newest = (
        select(video_categories.c.video_id)
        .where(video_categories.c.category_id == category_id, video_categories.c.video_id != video.id)
        .order_by(desc(video_categories.c.video_id))
        .limit(CATEGORY_POOL)
        .subquery()
    )
    return select(newest.c.video_id)


def _word_weights(session: Session, video: Video) -> dict[str, float]:
    words = terms(video.title, video.comment)
    if not words:
        return {}
    total = video_count(session) or 1
    common = max(50, min(total // 50, MAX_COMMON))
    df = _document_frequencies(session, video, common + 1)
    in_title = set(terms(video.title, ""))
    weights = {
        word: math.log(1 + total / df[word]) * (2.0 if word in in_title else 1.0)
        for word in words
        if 1 < df.get(word, 0) <= common  # a word only this video has cannot match anything
    }
    return dict(sorted(weights.items(), key=lambda item: item[1], reverse=True)[:MATCH_WORDS])


def _category_overlap(session: Session, video: Video, category_ids: list[int], only: set[int] | None) -> dict[int, int]:
    if only is not None:  # the exact count of shared categories for these candidates
        query = (
            select(video_categories.c.video_id, func.count())
            .where(video_categories.c.category_id.in_(category_ids), video_categories.c.video_id.in_(only))
            .group_by(video_categories.c.video_id)
        )
    else:  # the best POOL among each category's newest videos
        newest = union_all(*(_newest(category_id, video) for category_id in category_ids)).subquery()
        query = (
            select(newest.c.video_id, func.count())
            .group_by(newest.c.video_id)
            .order_by(desc(func.count()), desc(newest.c.video_id))
            .limit(POOL)
        )
    return {vid: value for vid, value in session.execute(query)}


def _word_overlap(session: Session, video: Video, weights: dict[str, float], only: set[int] | None) -> dict[int, float]:
    score = func.sum(case(weights, value=VideoTerm.term, else_=0.0))
    query = (
        select(VideoTerm.video_id, score)
        .where(VideoTerm.term.in_(weights), VideoTerm.video_id != video.id)
        .group_by(VideoTerm.video_id)
    )
    if only is not None:
        query = query.where(VideoTerm.video_id.in_(only))
    else:
        query = query.order_by(desc(score), desc(VideoTerm.video_id)).limit(POOL)
    return {vid: value for vid, value in session.execute(query)}


def _similar_ids(session: Session, video: Video, limit: int = SIMILAR_COUNT) -> list[int]:
    """Ids of the `limit` videos most like `video`, best first, never `video` itself."""
    category_ids = [c.id for c in video.categories]
    weights = _word_weights(session, video)
    by_category = _category_overlap(session, video, category_ids, None) if category_ids else {}
    by_words = _word_overlap(session, video, weights, None) if weights else {}
    # A candidate found on one side only gets its exact score on the other side too.
    if category_ids and (missing := set(by_words) - set(by_category)):
        by_category |= _category_overlap(session, video, category_ids, missing)
    if weights and (missing := set(by_category) - set(by_words)):
        by_words |= _word_overlap(session, video, weights, missing)
    total_weight = sum(weights.values()) or 1.0

    def score(vid: int) -> tuple[float, int]:
        shared = by_category.get(vid, 0) / len(category_ids) if category_ids else 0.0
        return (0.5 * shared + 0.5 * by_words.get(vid, 0.0) / total_weight, vid)

    ranked = sorted(set(by_category) | set(by_words), key=score, reverse=True)[:limit]
    if len(ranked) < limit:
        newest = select(Video.id).where(Video.id.not_in([video.id, *ranked]))
        ranked += session.scalars(newest.order_by(desc(Video.created_at), desc(Video.id)).limit(limit - len(ranked)))
    return ranked


def similar_videos(video_id: int, limit: int = SIMILAR_COUNT) -> list[VideoCard]:
    """Cards of the videos most like `video_id` (see the module docstring for the ranking)."""
    with session_scope() as session:
        video = session.get(Video, video_id)
        if video is None:
            raise VideoNotFound("This video does not exist (any more).")
        ids = _similar_ids(session, video, limit)
        found = {v.id: v for v in session.scalars(with_cards(select(Video).where(Video.id.in_(ids))))}
        return [card(found[i]) for i in ids if i in found]
