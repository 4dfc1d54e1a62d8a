"""The lockout under a parallel attack: many sign-ins for one email at once check at most the limit's worth.

Real threads against the real SQLite file and a real PostgreSQL (where the serialised transaction is an
advisory lock on the email, not the database's write lock); bcrypt at cost 10 (tens of milliseconds a
check, like a real server) so the attempts truly overlap. Password checks are counted by wrapping
`check_password`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.accounts import users as accounts
from core.accounts.users import AccountError, AccountLocked, UserInfo, record_failure, register, sign_in
from core.config import get_settings
from core.storage.database import serialised_scope, session_scope
from core.storage.models import LoginFailure, utcnow

EMAIL = "ann@example.com"
PASSWORD = "correct horse battery"
ATTEMPTS = 60
LIMIT = 5

pytestmark = pytest.mark.both_databases


@pytest.fixture
def account(site: Path, monkeypatch: pytest.MonkeyPatch) -> UserInfo:
    monkeypatch.setenv("WEBTUBE_BCRYPT_ROUNDS", "10")
    get_settings.cache_clear()
    return register("Ann", EMAIL, PASSWORD, PASSWORD)


class CheckCounter:
    """Wraps the real bcrypt check: records each password checked and signals when `LIMIT` checks have begun."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.checked: list[str] = []
        self.limit_reached = threading.Event()
        self._lock = threading.Lock()
        self._real: Callable[[str, str], bool] = accounts.check_password
        monkeypatch.setattr(accounts, "check_password", self)

    def __call__(self, password: str, password_hash: str) -> bool:
        with self._lock:
            self.checked.append(password)
            if len(self.checked) >= LIMIT:
                self.limit_reached.set()
        return self._real(password, password_hash)


def _burst(passwords: list[str], wait_for: dict[int, threading.Event],
           email: str = EMAIL) -> dict[int, UserInfo | AccountError]:
    """Every password in its own thread, released together; attempt i first waits for `wait_for[i]`, if given."""
    results: dict[int, UserInfo | AccountError] = {}
    barrier = threading.Barrier(len(passwords))

    def attempt(index: int, password: str) -> None:
        barrier.wait(timeout=30)
        if index in wait_for:
            assert wait_for[index].wait(timeout=30), "the first checks never started"
        try:
            results[index] = sign_in(email, password)
        except AccountError as exc:
            results[index] = exc

    threads = [threading.Thread(target=attempt, args=(i, p)) for i, p in enumerate(passwords)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert len(results) == len(passwords)
    return results


@pytest.mark.parametrize("run", range(3))
def test_sixty_parallel_sign_ins_check_at_most_five_passwords_and_the_right_one_gets_no_entry(
    account: UserInfo, monkeypatch: pytest.MonkeyPatch, run: int
) -> None:
    """The attack of issue 8: 59 wrong passwords and the right one at once. Before the fix every one was
    checked and the right one signed in. The right one goes once the first five checks have begun, in the
    middle of the burst, like the last of twelve tabs: it must find the email locked."""
    counter = CheckCounter(monkeypatch)
    passwords = [f"wrong guess {i}" for i in range(ATTEMPTS - 1)] + [PASSWORD]
    results = _burst(passwords, wait_for={ATTEMPTS - 1: counter.limit_reached})
    assert len(counter.checked) <= LIMIT
    assert PASSWORD not in counter.checked
    assert isinstance(results[ATTEMPTS - 1], AccountLocked)
    assert not any(isinstance(r, UserInfo) for r in results.values())
    assert sum(isinstance(r, AccountLocked) for r in results.values()) >= ATTEMPTS - LIMIT
    with pytest.raises(AccountLocked):
        sign_in(EMAIL, PASSWORD)  # and the lock holds afterwards


def test_in_a_burst_in_any_order_only_a_checked_password_can_sign_in(
    account: UserInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """All sixty released at once in no set order: the right one signs in only when it was among the five
    guesses the limit allows, never past them. While no one has signed in, at most five are checked. A
    sign-in forgives the attempts counted before it (the owner's typos), so once the right one is in, the
    lock counts afresh: at most another five may be checked, never more (CI on PostgreSQL under load saw
    nine checked in all with the right one fourth: its success had forgiven four)."""
    counter = CheckCounter(monkeypatch)
    passwords = (
        [f"wrong guess {i}" for i in range(ATTEMPTS // 2)]
        + [PASSWORD]
        + [f"other guess {i}" for i in range(ATTEMPTS // 2 - 1)]
    )
    results = _burst(passwords, wait_for={})
    signed_in = [r for r in results.values() if isinstance(r, UserInfo)]
    if PASSWORD not in counter.checked:
        assert len(counter.checked) <= LIMIT
        assert not signed_in
    else:
        assert counter.checked.index(PASSWORD) < LIMIT  # one of the first five checked, or it was not let through
        assert len(counter.checked) <= 2 * LIMIT
        assert len(signed_in) == 1
    assert sum(isinstance(r, AccountLocked) for r in results.values()) >= ATTEMPTS - 2 * LIMIT


def test_a_burst_for_an_email_without_an_account_is_locked_out_alike(
    account: UserInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No account row to lock: the attempts still line up (on PostgreSQL a row lock alone let all sixty
    through to a password check), so the burst looks exactly like one against a real account."""
    counter = CheckCounter(monkeypatch)
    results = _burst([f"guess {i}" for i in range(ATTEMPTS)], wait_for={}, email="nobody@example.com")
    assert len(counter.checked) == LIMIT
    assert all(isinstance(r, AccountError) for r in results.values())
    assert sum(isinstance(r, AccountLocked) for r in results.values()) >= ATTEMPTS - LIMIT


def test_a_right_password_is_refused_when_the_email_was_locked_during_its_check(
    account: UserInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second lock check: while the right password is being checked, five face attempts fail for
    the same email (record_failure); the right password must then be refused too."""
    real = accounts.check_password

    def check_while_faces_fail(password: str, password_hash: str) -> bool:
        for _ in range(LIMIT):
            record_failure(EMAIL)
        return real(password, password_hash)

    monkeypatch.setattr(accounts, "check_password", check_while_faces_fail)
    with pytest.raises(AccountLocked):
        sign_in(EMAIL, PASSWORD)


def test_one_at_a_time_four_failures_still_leave_the_fifth_try(account: UserInfo) -> None:
    """Counting in advance does not cost the owner a try: four wrong, then the right one, signs in."""
    for _ in range(LIMIT - 1):
        with pytest.raises(accounts.InvalidCredentials):
            sign_in(EMAIL, "wrong password")
    assert sign_in(EMAIL, PASSWORD).email == EMAIL
    assert accounts.lock_seconds_left(EMAIL) == 0


def test_a_sign_in_resets_the_count_and_the_next_five_wrong_lock_it_again(account: UserInfo) -> None:
    """What a success forgives is bounded: the attempts before it. Five wrong passwords after it lock the
    email, and then even the right one is refused."""
    for _ in range(LIMIT - 1):
        with pytest.raises(accounts.InvalidCredentials):
            sign_in(EMAIL, "wrong password")
    sign_in(EMAIL, PASSWORD)
    for attempt in range(LIMIT):
        with pytest.raises(AccountLocked if attempt == LIMIT - 1 else accounts.InvalidCredentials):
            sign_in(EMAIL, f"guess {attempt}")
    with pytest.raises(AccountLocked):
        sign_in(EMAIL, PASSWORD)


def test_the_serialised_transaction_commits_its_writes_and_rolls_back_on_an_error(site: Path) -> None:
    """What the lockout stands on: the write lock's transaction keeps what it wrote, or nothing at all."""
    with serialised_scope() as session:
        session.add(LoginFailure(email=EMAIL, attempted_at=utcnow()))
    with pytest.raises(RuntimeError), serialised_scope() as session:
        session.add(LoginFailure(email=EMAIL, attempted_at=utcnow()))
        session.flush()
        raise RuntimeError("the check failed half-way")
    with session_scope() as session:
        assert session.scalar(select(func.count(LoginFailure.id))) == 1
