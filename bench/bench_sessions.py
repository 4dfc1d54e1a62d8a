"""Sessions benchmark: what the session lookup adds to every page run, with many sessions stored.

    python -m bench.bench_sessions [--users 1000] [--per-user 20] [--repeat 200]

Prints JSON: fill time, then medians in milliseconds of resolve (a read, what most reruns cost),
touch that writes (the sliding expiry, at most once a minute per session), create (sign-in) and
revoke_others (password change). Runs on SQLite in a new temporary folder; nothing is downloaded.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta


def _median_ms(action: Callable[[int], object], repeat: int) -> float:
    times = []
    for i in range(repeat):
        start = time.perf_counter()
        action(i)
        times.append(time.perf_counter() - start)
    return round(statistics.median(times) * 1000, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--per-user", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    os.environ["WEBTUBE_DATA_DIR"] = tempfile.mkdtemp(prefix="webtube-bench-sessions-")
    os.environ.pop("DATABASE_URL", None)

    from sqlalchemy import insert

    from core.accounts import sessions
    from core.storage.database import session_scope
    from core.storage.models import AuthSession, User, utcnow

    start = time.perf_counter()
    now = utcnow()
    tokens: list[str] = []
    with session_scope() as db:
        db.execute(
            insert(User),
            [
                {"email": f"u{i}@example.com", "password_hash": "x", "display_name": f"U{i}", "is_admin": False}
                for i in range(args.users)
            ],
        )
        rows = []
        for user in range(1, args.users + 1):
            for _ in range(args.per_user):
                token = secrets.token_urlsafe(32)
                tokens.append(token)
                rows.append(
                    {
                        "token_hash": sessions.token_hash(token),
                        "user_id": user,
                        "method": "password",
                        "created_at": now,
                        "last_used_at": now,
                        "expires_at": now + timedelta(days=30),
                    }
                )
        db.execute(insert(AuthSession), rows)
    fill_s = time.perf_counter() - start

    step = max(len(tokens) // args.repeat, 1)
    later = now + timedelta(minutes=5)  # every touch below is past TOUCH_EVERY, so each one writes
    result = {
        "sessions_stored": len(tokens),
        "fill_s": round(fill_s, 2),
        "resolve_ms_median": _median_ms(lambda i: sessions.resolve(tokens[i * step]), args.repeat),
        "resolve_unknown_ms_median": _median_ms(lambda i: sessions.resolve(f"unknown-{i}"), args.repeat),
        "touch_with_write_ms_median": _median_ms(lambda i: sessions.touch(tokens[i * step], now=later), args.repeat),
        "create_ms_median": _median_ms(lambda i: sessions.create(1 + i % args.users, "password"), args.repeat),
        "revoke_others_ms_median": _median_ms(
            lambda i: sessions.revoke_others(1 + i % args.users, tokens[(i % args.users) * args.per_user]),
            min(args.repeat, args.users),
        ),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
