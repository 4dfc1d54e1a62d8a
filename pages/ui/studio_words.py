"""Counts and times in words for the studio pages: '1 face', '3 faces', 'about 2 min left'."""

from __future__ import annotations


def counted(count: int, word: str, plural: str | None = None) -> str:
    """`count` followed by `word`, or its plural (`word + "s"` unless given) when count is not 1."""
    return f"{count} {word if count == 1 else plural or word + 's'}"


def time_left(seconds: float | None) -> str:
    """'about 2 min left', or '' while the speed is not known yet."""
    if seconds is None:
        return ""
    if seconds < 60:
        return f"about {max(round(seconds), 1)} s left"
    return f"about {round(seconds / 60)} min left"
