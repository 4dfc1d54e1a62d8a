"""The cloud import's errors: one sentence each, written for the person who pasted the link."""

from __future__ import annotations

from typing import Literal

from core.studio.errors import BadInput

CloudReason = Literal["not_found", "private", "bad_token", "rate_limited", "too_large", "refused", "offline",
                      "unsupported", "failed"]


class CloudError(BadInput):
    """A link the studio cannot import from; `reason` is for code, `str()` for people (never a URL or a token)."""

    def __init__(self, reason: CloudReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
