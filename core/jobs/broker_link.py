"""This process's one connection to the job broker (WEBTUBE_BROKER_URL), on an event loop thread of its own.

Why FastStream: one maintained library speaks both Redis Streams (a consumer group, XACK, XAUTOCLAIM for
deliveries a dead worker left pending) and RabbitMQ (a durable queue, persistent messages, publisher confirms,
prefetch) behind the same subscriber and publish calls, and it reconnects by itself when the broker restarts.
It is asyncio while the job system is threads, so the broker lives on a loop thread and threads reach it with
`run_coroutine_threadsafe`.

What travels is a job id, nothing else: the database stays the record of every job. A delivery is acknowledged
when its handler returns (the job ran, or the database showed nobody needs it), so a worker that dies holding
one has it given to another: at once by RabbitMQ when the connection drops, after WEBTUBE_BROKER_REDELIVER_S by
Redis (XAUTOCLAIM). Each consumer takes one delivery at a time, so a busy worker never sits on waiting jobs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any

from faststream import AckPolicy, Context, StreamMessage
from faststream.rabbit import RabbitBroker, RabbitQueue
from faststream.rabbit.schemas import Channel
from faststream.redis import RedisBroker, StreamSub
from redis.exceptions import ResponseError

from core.config import get_settings

CHANNEL = "webtube-jobs"  # the Redis stream, or the RabbitMQ queue
GROUP = "webtube-workers"  # the Redis consumer group every worker joins
STREAM_MAXLEN = 100_000  # the stream is capped; a job whose id was trimmed away is sent again from the database
CONNECT_S = 10.0
PUBLISH_S = 5.0  # at most this long a page waits on a broker that is away (the job is sent later)
ERROR_PAUSE_S = 2.0  # a delivery whose handler raised (the database away) waits this long before going back
_QUEUE = RabbitQueue(CHANNEL, durable=True)
_MESSAGE = Context("message")  # FastStream hands the handler its delivery, to acknowledge it
_log = logging.getLogger(__name__)
_chatter = logging.getLogger(f"{__name__}.faststream")  # FastStream's own lines: its warnings and errors only
_chatter.setLevel(logging.WARNING)


def is_redis(url: str) -> bool:
    return url.startswith(("redis://", "rediss://"))


class BrokerLink:
    """A FastStream broker on its own loop: `consume()` before `start()`, `publish()` from any thread."""

    def __init__(self, url: str, redeliver_s: float) -> None:
        self.url, self.redeliver_s = url, redeliver_s
        quiet = {"logger": _chatter, "log_level": logging.DEBUG}  # its line per message stays out of the logs
        self.broker: RedisBroker | RabbitBroker = (
            RedisBroker(url, graceful_timeout=1.0, **quiet) if is_redis(url)
            else RabbitBroker(url, graceful_timeout=1.0, default_channel=Channel(prefetch_count=1), **quiet))
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._loop.run_forever, daemon=True, name="job-broker").start()
        self._started = False
        self._lock = threading.Lock()

    def _call(self, work: Coroutine[Any, Any, Any], timeout: float) -> Any:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout)

    def consume(self, consumer: str, handle: Callable[[int], None]) -> None:
        """Give each job id to `handle` (in a thread), one at a time for this consumer; acknowledged once it returns."""

        async def on_message(body: object, message: StreamMessage = _MESSAGE) -> None:
            try:
                job_id = int(body)  # type: ignore[call-overload]  # sent as text; a bare number decodes as JSON
            except (TypeError, ValueError):
                _log.error("job broker: a message that is no job id was dropped: %r", body[:80])
                await message.ack()
                return
            try:
                await asyncio.to_thread(handle, job_id)
            except Exception:
                _log.exception("job broker: job %s goes back to the broker", job_id)
                await asyncio.sleep(ERROR_PAUSE_S)
                await message.nack()
                return
            await message.ack()

        if isinstance(self.broker, RedisBroker):
            new = StreamSub(CHANNEL, group=GROUP, consumer=consumer, max_records=1, polling_interval=500)
            left = StreamSub(CHANNEL, group=GROUP, consumer=consumer, min_idle_time=int(self.redeliver_s * 1000),
                             polling_interval=int(min(self.redeliver_s, 5.0) * 1000))
            for stream in (new, left):  # new deliveries; and those a dead consumer left pending
                self.broker.subscriber(stream=stream, ack_policy=AckPolicy.MANUAL)(on_message)
        else:
            self.broker.subscriber(_QUEUE, ack_policy=AckPolicy.MANUAL)(on_message)

    def start(self) -> None:
        with self._lock:
            if not self._started:
                self._call(self._start(), CONNECT_S)
                self._started = True

    async def _start(self) -> None:
        if isinstance(self.broker, RedisBroker):  # the group from the stream's first entry: ids sent before any
            client = await self.broker.connect()  # worker joined are kept for it (FastStream would start at "$")
            with contextlib.suppress(ResponseError):  # BUSYGROUP: it exists already
                await client.xgroup_create(CHANNEL, GROUP, id="0", mkstream=True)
        await self.broker.start()
        if isinstance(self.broker, RabbitBroker):
            await self.broker.declare_queue(_QUEUE)  # a message sent before any worker started is kept, not dropped

    def publish(self, job_id: int) -> None:
        """Send one job id; raises when the broker does not confirm it in time (the caller sends it again later)."""
        self.start()
        if isinstance(self.broker, RedisBroker):
            self._call(self.broker.publish(str(job_id), stream=CHANNEL, maxlen=STREAM_MAXLEN), PUBLISH_S)
        else:
            self._call(self.broker.publish(str(job_id), queue=_QUEUE, persist=True), PUBLISH_S)

    def stop_consuming(self) -> None:
        """No more deliveries to this process; the ones in hand stay unacknowledged and go to another worker."""
        self._call(self._stop_subscribers(), CONNECT_S)

    async def _stop_subscribers(self) -> None:
        for subscriber in self.broker.subscribers:
            await subscriber.stop()

    def close(self) -> None:
        try:
            self._call(self.broker.stop(), CONNECT_S)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)


_link: BrokerLink | None = None
_link_lock = threading.Lock()


def get_link() -> BrokerLink:
    """The process's link to WEBTUBE_BROKER_URL (made on first use)."""
    global _link
    settings = get_settings()
    with _link_lock:
        if _link is not None and _link.url != settings.broker_url:  # the setting changed (tests)
            with contextlib.suppress(Exception):
                _link.close()
            _link = None
        if _link is None:
            _link = BrokerLink(settings.broker_url, settings.broker_redeliver_s)
        return _link


def close_link() -> None:
    """Close this process's link (at exit, or when a test stops its broker)."""
    global _link
    with _link_lock:
        if _link is not None:
            with contextlib.suppress(Exception):
                _link.close()
            _link = None
