"""The studio's errors; each message is one sentence written for the person who asked."""

from __future__ import annotations


class StudioError(ValueError):
    """Base of every studio error; `str(err)` is safe to show on a page or print on stderr."""


class NotFound(StudioError):
    """No such item in this library: also raised for other owners' ids, so their existence is never revealed."""


class BadInput(StudioError):
    """The request cannot be done as asked (an empty import, a zip over the caps, a bad name ...)."""
