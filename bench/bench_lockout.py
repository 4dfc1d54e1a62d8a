"""Password sign-in benchmark: what counting each attempt first, in a serialised transaction, costs.

    python -m bench.bench_lockout [--rounds 12] [--repeat 10] [--threads 16]

Prints JSON: one bcrypt check; one whole sign-in and its database part (timed with the check stubbed);
`--threads` different accounts signing in at once (SQLite's write lock serialises only the short
transactions, not the checks: compare `wall_in_bcrypt_checks` with `threads / cores`, the ideal); and
a burst of 60 attempts at one email (59 wrong, 1 right, at once): how many passwords were checked
(at most WEBTUBE_LOGIN_MAX_FAILURES) and how long the burst took. Runs on SQLite in a new temporary
folder (or an empty database given with --database-url).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable

PASSWORD = "correct horse battery staple"


def _ms(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def _at_once(actions: list[Callable[[], object]]) -> tuple[float, list[float]]:
    """Run every action in its own thread, released together; wall time and each one's time, in ms."""
    barrier = threading.Barrier(len(actions) + 1)
    times: list[float] = [0.0] * len(actions)

    def run(index: int) -> None:
        barrier.wait()
        times[index] = _ms(actions[index])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actions))]
    for thread in threads:
        thread.start()
    start = time.perf_counter()
    barrier.wait()
    for thread in threads:
        thread.join()
    return (time.perf_counter() - start) * 1000, times


def _attempt(email: str, password: str) -> None:
    from core.accounts.users import AccountError, sign_in

    with contextlib.suppress(AccountError):  # wrong passwords and locks are what the burst expects
        sign_in(email, password)


def bench(repeat: int, threads: int) -> dict[str, object]:
    from core.accounts import users
    from core.accounts.users import hash_password, register, sign_in, unlock

    accounts = [f"person{i}@example.com" for i in range(threads)]
    for index, email in enumerate(accounts):
        register(f"Person {index}", email, PASSWORD, PASSWORD)
    stored = hash_password(PASSWORD)
    check = statistics.median(_ms(lambda: users.check_password(PASSWORD, stored)) for _ in range(repeat))
    whole = statistics.median(_ms(lambda: sign_in(accounts[0], PASSWORD)) for _ in range(repeat))
    wall, each = _at_once([lambda email=email: sign_in(email, PASSWORD) for email in accounts])

    real_check = users.check_password
    users.check_password = lambda password, password_hash: True  # what is left: the two short transactions
    try:
        database_part = statistics.median(_ms(lambda: sign_in(accounts[0], PASSWORD)) for _ in range(repeat * 5))
    finally:
        users.check_password = real_check

    checked: list[str] = []

    def counting(password: str, password_hash: str) -> bool:
        checked.append(password)
        return real_check(password, password_hash)

    unlock(accounts[0])
    users.check_password = counting
    try:
        guesses = [f"wrong guess {i}" for i in range(59)] + [PASSWORD]
        burst_wall, _ = _at_once([lambda guess=guess: _attempt(accounts[0], guess) for guess in guesses])
    finally:
        users.check_password = real_check
    return {
        "bcrypt_rounds": users.bcrypt_rounds(),
        "cpu_cores": os.cpu_count(),
        "bcrypt_check_ms": round(check, 1),
        "sign_in_ms": round(whole, 1),
        "sign_in_database_part_ms": round(database_part, 2),
        f"parallel_{threads}_accounts": {
            "wall_ms": round(wall, 1),
            "median_ms": round(statistics.median(each), 1),
            "max_ms": round(max(each), 1),
            "wall_in_bcrypt_checks": round(wall / check, 1),
        },
        "burst_60_at_one_email": {"passwords_checked": len(checked), "wall_ms": round(burst_wall, 1)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=12, help="bcrypt cost (production: 12)")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="webtube-bench-lockout-") as folder:
        os.environ.update({"WEBTUBE_DATA_DIR": folder, "WEBTUBE_BCRYPT_ROUNDS": str(args.rounds)})
        if args.database_url:
            os.environ["DATABASE_URL"] = args.database_url
        else:
            os.environ.pop("DATABASE_URL", None)
        print(json.dumps({"bench": "lockout", **bench(args.repeat, args.threads)}, indent=2))


if __name__ == "__main__":
    main()
