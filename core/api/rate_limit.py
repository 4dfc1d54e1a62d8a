"""How many requests one API key may make: a token bucket per key, refilled every second.

Why a bucket: a program may send a burst (WEBTUBE_API_RATE_PER_MINUTE requests at once) and then
keeps that rate; past it the answer is 429 with `Retry-After`, the seconds until the next request
fits. The buckets live in the API process: with several API processes each one counts on its own.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    def __init__(self, per_minute: int, clock=time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.refill_per_s = per_minute / 60.0
        self._clock = clock
        self._buckets: dict[int, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key_id: int) -> int:
        """0 when the request may go ahead (one token taken), else the whole seconds until it would."""
        with self._lock:
            now = self._clock()
            bucket = self._buckets.setdefault(key_id, _Bucket(self.capacity, now))
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.at) * self.refill_per_s)
            bucket.at = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0
            return max(1, math.ceil((1.0 - bucket.tokens) / self.refill_per_s))
