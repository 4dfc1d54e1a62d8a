"""Waiting for what another thread or process does: a deadline, and a failure that names what never came."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(condition: Callable[[], object], what: str, timeout_s: float = 60.0) -> None:
    """Poll `condition()` every 50 ms until it is true; after `timeout_s` fail saying `what` never happened."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"never happened in {timeout_s:g} s: {what}"
        time.sleep(0.05)
