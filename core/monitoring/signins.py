"""One finished sign-in attempt, counted and logged: how, how it ended, and whose account when known.

Never what was typed or seen: no email, no password, no embedding; the account id is enough to
follow one account's attempts in the log.
"""

from __future__ import annotations

from core.monitoring.logs import log_event
from core.monitoring.metrics import signin_attempt


def signin_outcome(method: str, outcome: str, user_id: int | None = None) -> None:
    """`method`: "password" or "face"; `outcome`: "ok", "wrong_password", "unknown_account", "locked",
    "no_match" or "liveness_failed"."""
    signin_attempt(method, outcome)
    log_event("signin", level="info" if outcome == "ok" else "warning", method=method, outcome=outcome,
              user_id=user_id)
