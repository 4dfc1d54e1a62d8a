"""Counts in words for the studio pages: '1 face', '3 faces', '2 matches'."""

from __future__ import annotations


def counted(count: int, word: str, plural: str | None = None) -> str:
    """`count` followed by `word`, or its plural (`word + "s"` unless given) when count is not 1."""
    return f"{count} {word if count == 1 else plural or word + 's'}"
