"""`python -m core worker` processes for the broker tests and the workers benchmark, and the photos they import.

Workers start on the test's database, data folder and broker, each logging to its own file, and stop as an
operator stops them (SIGTERM). The photos are the project's small one-face photo (320x240), each file made
distinct by its number in two pixels, so thousands import quickly and none is a duplicate of another.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aio_pika
import numpy as np
import redis
from PIL import Image

from core.config import PROJECT_ROOT
from core.jobs.broker_link import CHANNEL, GROUP, is_redis
from tests.support.paths import FACES_DIR

SMALL_PHOTO = FACES_DIR / "people" / "obama" / "obama_5_small.jpg"  # one face

STOP_S = 30.0


def worker_env(data_dir: Path, broker_url: str, database_url: str = "", **extra: str) -> dict[str, str]:
    """What a worker on another machine would be given: the same database, media folder and broker."""
    env = {**os.environ, "WEBTUBE_DATA_DIR": str(data_dir), "WEBTUBE_BROKER_URL": broker_url,
           "WEBTUBE_IMPORT_WORKERS": "1", **extra}
    if database_url:
        env["DATABASE_URL"] = database_url
    else:
        env.pop("DATABASE_URL", None)
    return env


def start_worker(env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """A worker process, logging to `log_path`."""
    command = [sys.executable, "-m", "core", "worker"]
    with log_path.open("ab") as log:
        return subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def stop_worker(worker: subprocess.Popen) -> None:
    """SIGTERM (the worker hands its jobs back), SIGKILL if it does not go in time."""
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(STOP_S)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(5)


def _consumers(broker_url: str) -> int:
    """Workers listening now: Redis clients waiting in XREADGROUP (Redis 7.0 lists a group's consumer only once
    it was given a message), or the consumers of the RabbitMQ queue."""
    if is_redis(broker_url):
        return sum(client.get("cmd") == "xreadgroup" for client in redis.Redis.from_url(broker_url).client_list())

    async def count() -> int:
        async with await aio_pika.connect(broker_url) as connection:
            queue = await (await connection.channel()).declare_queue(CHANNEL, durable=True)
            return queue.declaration_result.consumer_count

    return asyncio.run(count())


def wait_for_consumers(broker_url: str, count: int, seconds: float = 180) -> None:
    """Until `count` workers listen (they boot in parallel, each importing the models' libraries)."""
    deadline = time.monotonic() + seconds
    while (listening := _consumers(broker_url)) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"only {listening} of {count} workers joined the broker in {seconds:.0f} s")
        time.sleep(0.3)


def empty_broker(broker_url: str) -> None:
    """No job id left over from an earlier run (whose database had the same ids)."""
    if is_redis(broker_url):
        client = redis.Redis.from_url(broker_url)
        client.delete(CHANNEL)
        client.xgroup_create(CHANNEL, GROUP, id="0", mkstream=True)  # as a first connection makes it
        return

    async def delete_queue() -> None:
        async with await aio_pika.connect(broker_url) as connection:
            await (await connection.channel()).queue_delete(CHANNEL)

    asyncio.run(delete_queue())


@contextmanager
def workers(count: int, env: dict[str, str], log_dir: Path) -> Iterator[list[subprocess.Popen]]:
    """`count` worker processes for the length of the block; each logs to `log_dir/worker-N.log`."""
    log_dir.mkdir(parents=True, exist_ok=True)
    started = [start_worker(env, log_dir / f"worker-{n}.log") for n in range(count)]
    try:
        yield started
    finally:
        for worker in started:
            stop_worker(worker)


def small_photos(folder: Path, count: int, first: int = 0) -> list[Path]:
    """Photos number `first` to `first + count - 1`: the same face, every file different."""
    folder.mkdir(parents=True, exist_ok=True)
    base = np.asarray(Image.open(SMALL_PHOTO).convert("RGB"))
    made = []
    for number in range(first, first + count):
        pixels = base.copy()
        pixels[0, 0] = (number % 256, number // 256 % 256, 5)
        pixels[0, 1] = (number // 65536 % 256, 0, 5)
        path = folder / f"photo_{number:06d}.png"
        Image.fromarray(pixels).save(path)
        made.append(path)
    return made
