"""Video-site benchmark: fill a fresh database with 10,000 videos by 1,000 people and time what pages do.

    python -m bench.bench_site [--videos 10000] [--users 1000] [--repeat 25]

Prints JSON: fill time, feed first page, feed filtered by category, feed search, similar videos
(median over different videos) and one bcrypt sign-in at the production cost. Targets: feed page
and similar videos under 100 ms. Titles and comments are drawn from a Zipf-distributed vocabulary,
so some words are in thousands of videos and most in few, as in real text. Runs on SQLite in a
new temporary folder (or an empty database given with --database-url); nothing is downloaded.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from itertools import accumulate

TOPICS = """piano guitar drums violin jazz opera concert live cover tutorial lesson beginner advanced review unboxing
travel lisbon tokyo paris mountains beach hiking camping recipe pasta bread curry vegan baking chess football tennis
cycling marathon highlights goal interview documentary history rome empire science physics space rocket planet
climate ocean wildlife birds cats dogs comedy sketch standup trailer animation short film gaming speedrun strategy
puzzle racing retro build woodworking garden repair car engine electric bike camera photography drawing painting
sculpture design typography coding python rust database algorithms machine learning news election economy markets
yoga workout stretching meditation sleep podcast debate lecture university math geometry calculus language spanish
japanese grammar""".split()  # noqa: SIM905 (a word list reads better as text)


def _vocabulary(rng: random.Random, size: int) -> tuple[list[str], list[float]]:
    """Real topic words first, then invented ones; weights fall as 1/rank (Zipf)."""
    syllables = ["ka", "lo", "mi", "ren", "tu", "sa", "vo", "del", "ni", "por", "qua", "zen", "bi", "ta", "ol"]
    invented = {"".join(rng.choices(syllables, k=rng.randint(2, 4))) for _ in range(size * 2)}
    words = TOPICS + sorted(invented - set(TOPICS))[: size - len(TOPICS)]
    return words, list(accumulate(1 / rank for rank in range(1, len(words) + 1)))


def _sentence(rng: random.Random, words: list[str], cumulative: list[float], low: int, high: int) -> str:
    return " ".join(rng.choices(words, cum_weights=cumulative, k=rng.randint(low, high))).capitalize()


def _fill(users: int, videos: int, seed: int) -> None:
    """Bulk-insert users and videos with categories and word index, as the services would store them."""
    from sqlalchemy import insert, select

    from core.accounts.users import hash_password
    from core.storage.database import session_scope
    from core.storage.models import Category, User, Video, VideoTerm, utcnow, video_categories
    from core.videos.terms import terms

    rng = random.Random(seed)
    words, cumulative = _vocabulary(rng, 3000)
    shared_hash = hash_password("bench-password")  # one hash for all: 1,000 bcrypt runs would take minutes
    now = utcnow()
    with session_scope() as session:
        category_ids = list(session.scalars(select(Category.id)))
        session.execute(
            insert(User),
            [
                {
                    "email": f"user{i}@bench.example",
                    "password_hash": shared_hash,
                    "display_name": f"User {i}",
                    "is_admin": False,
                    "created_at": now,
                }
                for i in range(users)
            ],
        )
        owner_ids = list(session.scalars(select(User.id)))
        rows, links, index = [], [], []
        for video_id in range(1, videos + 1):
            title = _sentence(rng, words, cumulative, 3, 8)
            comment = _sentence(rng, words, cumulative, 0, 40)
            url = f"https://videos.bench.example/watch/{video_id}"
            rows.append(
                {
                    "id": video_id,
                    "owner_id": rng.choice(owner_ids),
                    "original_url": url,
                    "canonical_url": url,
                    "site": "videos.bench.example",
                    "title": title,
                    "thumbnail_url": None,
                    "duration_s": rng.randint(20, 3600),
                    "comment": comment,
                    "created_at": now - timedelta(minutes=rng.randint(0, 525_600)),
                }
            )
            links += [{"video_id": video_id, "category_id": c} for c in rng.sample(category_ids, rng.randint(1, 3))]
            index += [{"video_id": video_id, "term": t} for t in terms(title, comment)]
        session.execute(insert(Video), rows)
        session.execute(insert(video_categories), links)
        session.execute(insert(VideoTerm), index)


def _timings_ms(action: Callable[[], object], repeat: int) -> list[float]:
    """`repeat` timed calls after one untimed warm-up call, sorted."""
    action()
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        timings.append((time.perf_counter() - start) * 1000)
    return sorted(timings)


def _median_ms(action: Callable[[], object], repeat: int) -> float:
    return round(statistics.median(_timings_ms(action, repeat)), 2)


def _p95_ms(timings: list[float]) -> float:
    return round(timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))], 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=25)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database-url", help="an empty database to fill (default: SQLite in a new temporary folder)")
    args = parser.parse_args()
    os.environ["WEBTUBE_DATA_DIR"] = tempfile.mkdtemp(prefix="webtube-bench-")
    os.environ.pop("DATABASE_URL", None)  # never fill the app's own database by accident
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url

    from core.accounts.users import bcrypt_rounds, list_users, register, sign_in
    from core.videos.feed import feed_page
    from core.videos.similar import similar_videos

    if list_users():
        raise SystemExit("The database already has accounts; the benchmark only fills an empty one.")
    start = time.perf_counter()
    _fill(args.users, args.videos, args.seed)
    fill_s = time.perf_counter() - start
    rng = random.Random(args.seed + 1)
    sample = iter(rng.sample(range(1, args.videos + 1), args.repeat + 1))
    register("Bench Person", "bench@bench.example", "bench-password", "bench-password")
    feed = _timings_ms(feed_page, args.repeat)
    similar = _timings_ms(lambda: similar_videos(next(sample)), args.repeat)  # a different video each time
    result = {
        "videos": args.videos,
        "users": args.users + 1,
        "fill_s": round(fill_s, 1),
        "feed_first_page_ms": round(statistics.median(feed), 2),
        "feed_first_page_p95_ms": _p95_ms(feed),
        "feed_filtered_page_ms": _median_ms(lambda: feed_page(category="music"), args.repeat),
        "feed_search_page_ms": _median_ms(lambda: feed_page(query="piano lesson"), args.repeat),
        "feed_page_50_ms": _median_ms(lambda: feed_page(page=50), args.repeat),
        "similar_videos_ms": round(statistics.median(similar), 2),
        "similar_videos_p95_ms": _p95_ms(similar),
        "sign_in_ms": _median_ms(lambda: sign_in("bench@bench.example", "bench-password"), 3),
        "bcrypt_rounds": bcrypt_rounds(),
    }
    result["targets_met"] = result["feed_first_page_ms"] < 100 and result["similar_videos_ms"] < 100
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
