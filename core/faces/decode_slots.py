"""At most a few heavy image decodes at once in this process; the others wait their turn, for a bounded time.

Why: each large upload briefly needs tens of megabytes, and Streamlit runs every browser session on
its own thread, so many people uploading at once multiply the peak. A bounded semaphore per
configured count (`WEBTUBE_HEAVY_DECODES`) caps that product; light decodes (camera frames, small
photos) never wait.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from core.config import get_settings
from core.faces.errors import DecoderBusy

HEAVY_DECODE_BYTES = 16 * 2**20  # about 4 MP of RGB: anything larger waits for a slot


@cache
def _slots(count: int) -> threading.BoundedSemaphore:
    """One semaphore per configured count, shared by every thread of the process."""
    return threading.BoundedSemaphore(count)


@contextmanager
def decode_slot(cost_bytes: int) -> Iterator[None]:
    """Hold one of the heavy-decode slots while decoding `cost_bytes` of pixels (free below the threshold)."""
    if cost_bytes < HEAVY_DECODE_BYTES:
        yield
        return
    settings = get_settings()
    slots = _slots(settings.heavy_decodes)
    if not slots.acquire(timeout=settings.decode_wait_s):
        raise DecoderBusy("The server is busy opening other large pictures; please try again in a minute.")
    try:
        yield
    finally:
        slots.release()
