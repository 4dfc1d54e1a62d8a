"""What makes a password acceptable, after NIST SP 800-63B: long enough, not common, not about the person.

Why zxcvbn: it is a maintained estimator that knows common passwords, dictionary words, keyboard
patterns, dates and repeats, and takes the person's own details (email, name) as words to
penalise. Length is the main rule; composition rules are not imposed, so long passphrases pass.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from zxcvbn import zxcvbn

MIN_PASSWORD = 8
MAX_PASSWORD = 1024
MIN_SCORE = 3  # zxcvbn's "safely unguessable: moderate protection from offline slow-hash attacks"
_ESTIMATED_PREFIX = 72  # zxcvbn refuses longer input (its matching grows fast); a longer tail only adds strength
SITE_WORDS = ("webtube", "web tube", "video", "videos")


class PasswordRefused(ValueError):
    """The reason, written for the person choosing the password."""


def _context_words(context: Iterable[str]) -> list[str]:
    """The person's details split into the words someone guessing would try (email parts, names)."""
    words: list[str] = list(SITE_WORDS)
    for item in context:
        item = item.strip().lower()
        if not item:
            continue
        words.append(item)
        local, _, domain = item.partition("@")
        words.extend(part for part in (local, domain.split(".")[0]) if len(part) >= 3)
        words.extend(part for part in item.replace("@", " ").replace(".", " ").split() if len(part) >= 3)
    return words


def check_strength(password: str, context: Iterable[str] = ()) -> None:
    """Raise PasswordRefused unless `password` is acceptable for someone described by `context`."""
    if len(password) < MIN_PASSWORD:
        raise PasswordRefused(f"The password must be at least {MIN_PASSWORD} characters long.")
    if len(password) > MAX_PASSWORD:
        raise PasswordRefused(f"The password can be at most {MAX_PASSWORD} characters long.")
    if any(unicodedata.category(ch) in {"Cc", "Cf"} for ch in password):
        raise PasswordRefused("The password cannot contain control or invisible characters.")
    if not password.strip():
        raise PasswordRefused("The password cannot be only spaces.")
    words = _context_words(context)
    lowered = password.strip().lower()
    if any(lowered == word for word in words):
        raise PasswordRefused("The password cannot be your email, your name or the site's name.")
    verdict = zxcvbn(password[:_ESTIMATED_PREFIX], user_inputs=words)
    if verdict["score"] < MIN_SCORE:
        hint = verdict["feedback"].get("warning") or "it is too easy to guess"
        raise PasswordRefused(
            f"Please choose a stronger password: {hint.rstrip('.').lower()}. A few unrelated words make a good one."
        )
