"""At most so many requests a second per key (VK allows about 3 API calls a second per token).

The pause is counted from the end of the previous call, not its start: a provider counts requests as they
arrive, and a request can leave late (a slow connection set-up) while the next leaves on time, so spacing
the starts alone lets two arrive closer than allowed. One call at a time per key, shared by the process:
two imports with the same token take turns instead of tripping the limit together. Keys are hashes, so no
token is kept here.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class Throttle:
    """`with throttle.turn():` around each call: it starts `interval_s` after the previous one ended."""

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._free_at = 0.0
        self._lock = threading.Lock()

    @contextmanager
    def turn(self) -> Iterator[None]:
        with self._lock:
            delay = self._free_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            try:
                yield
            finally:
                self._free_at = time.monotonic() + self.interval_s


_throttles: dict[str, Throttle] = {}
_lock = threading.Lock()


def throttle_for(secret: str, per_second: float) -> Throttle:
    """The process's one Throttle for this secret (a token), made on first use."""
    key = hashlib.sha256(secret.encode()).hexdigest()
    with _lock:
        if key not in _throttles:
            _throttles[key] = Throttle(1.0 / per_second)
        return _throttles[key]
