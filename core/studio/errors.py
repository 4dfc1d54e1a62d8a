"""The studio's errors; each message is one sentence written for the person who asked."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy.orm import Session

Row = TypeVar("Row")


class StudioError(ValueError):
    """Base of every studio error; `str(err)` is safe to show on a page or print on stderr."""


class NotFound(StudioError):
    """No such item in this library: also raised for other owners' ids, so their existence is never revealed."""


class BadInput(StudioError):
    """The request cannot be done as asked (an empty import, a zip over the caps, a bad name ...)."""


class TooLarge(BadInput):
    """The input is over a size cap (a video, a zip unpacked): the HTTP API answers 413."""


class WrongType(BadInput):
    """The input is a real file of a kind this use does not take (not a video, not a zip): the HTTP API answers 415."""


def owned(session: Session, model: type[Row], owner_id: int, row_id: int, message: str) -> Row:
    """The row `row_id` of `model` if it is in `owner_id`'s library; anyone else's reads as missing."""
    row = session.get(model, row_id)
    if row is None or getattr(row, "owner_id", None) != owner_id:
        raise NotFound(message)
    return row
