"""Jobs through a real broker to real `python -m core worker` processes on one database and media folder.

Redis 7 (Streams, a consumer group) and RabbitMQ 3.10 (a durable queue) are started by the tests on loopback
in temporary folders; the workers are child processes with the real face models. Every check reads the
database, the record of each job: every photo imported once, one face each, each job ended by one holder.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.accounts.users import register
from core.config import get_settings
from core.jobs import queue
from core.jobs.broker_link import close_link
from core.storage.database import session_scope
from core.storage.studio_models import Face, Job, JobItem, Photo
from core.studio import jobs
from tests.support.job_checks import assert_no_doubles, wait_for_job
from tests.support.job_workers import empty_broker, small_photos, wait_for_consumers, worker_env, workers
from tests.support.postgres_server import postgres_server
from tests.support.rabbitmq_server import RabbitServer, rabbitmq_server
from tests.support.redis_server import RedisServer, redis_server

EMAIL, PASSWORD = "ada@example.com", "correct horse battery"
REDELIVER_S = "3"  # a delivery left pending by a dead Redis consumer is given again after this long
IMPORTS, PER_IMPORT = 20, 50  # four workers share 1,000 photos (bench_workers imports 10,000)

Broker = RedisServer | RabbitServer


@pytest.fixture(scope="module")
def redis() -> Iterator[RedisServer]:
    with redis_server() as server:
        yield server
        close_link()


@pytest.fixture(scope="module")
def rabbitmq() -> Iterator[RabbitServer]:
    with rabbitmq_server() as server:
        yield server
        close_link()


@pytest.fixture
def owner(site: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("WEBTUBE_BROKER_REDELIVER_S", REDELIVER_S)
    get_settings.cache_clear()
    return register("Ada", EMAIL, PASSWORD, PASSWORD).id


def _use(server: Broker, monkeypatch: pytest.MonkeyPatch) -> None:
    """This process plays the app: its wakes send job ids to `server`."""
    empty_broker(server.url)
    monkeypatch.setenv("WEBTUBE_BROKER_URL", server.url)
    get_settings.cache_clear()


@pytest.fixture(params=["redis", "rabbitmq"])
def broker(request: pytest.FixtureRequest, owner: int, monkeypatch: pytest.MonkeyPatch) -> Broker:
    server = request.getfixturevalue(request.param)
    _use(server, monkeypatch)
    return server


def _env(data_dir: Path, broker_url: str, database_url: str = "") -> dict[str, str]:
    """The workers' environment, embedding one face per pass: an import's progress then moves photo by photo
    (batches of 8 would take these small imports from nothing to nearly done in one step), so a test can act
    while a job is half done."""
    return worker_env(data_dir, broker_url, database_url, WEBTUBE_EMBED_BATCH="1")


def _import(owner_id: int, photos: list[Path], album: str) -> int:
    staged = jobs.stage_uploads(owner_id, [(p.name, p.read_bytes()) for p in photos])
    return jobs.start_import(owner_id, staged, album)


def _holder_pid(job_id: int) -> int:
    with session_scope() as session:
        return int(session.get_one(Job, job_id).worker.split(":")[1])


def _assert_each_photo_once(owner_id: int, photos: int) -> None:
    """`photos` photos, one face each, every item of every job recorded exactly once."""
    with session_scope() as session:
        stored = session.scalar(select(func.count(Photo.id)).where(Photo.owner_id == owner_id))
        faces = session.scalar(select(func.count(Face.id)).where(Face.owner_id == owner_id))
        items = session.execute(select(JobItem.status, JobItem.photo_id)).all()
    assert stored == faces == photos
    assert sorted(status for status, _ in items) == ["processed"] * photos
    assert len({photo_id for _, photo_id in items}) == photos
    assert_no_doubles(owner_id)


def test_a_worker_killed_mid_job_is_replaced_and_no_face_is_doubled(
    broker: Broker, owner: int, data_dir: Path, tmp_path: Path
) -> None:
    photos = small_photos(tmp_path / "album", 8)
    with workers(2, _env(data_dir, broker.url), tmp_path / "logs") as pair:
        job_id = _import(owner, photos, "Album")
        wait_for_job(owner, job_id, lambda i: i.status == "running" and i.done >= 2)
        victim = next(w for w in pair if w.pid == _holder_pid(job_id))
        victim.send_signal(signal.SIGKILL)  # mid-job: no hand-back, no acknowledgement
        victim.wait(10)
        info = wait_for_job(owner, job_id, lambda i: i.finished)
        survivor = next(w for w in pair if w is not victim)

        assert (info.status, info.done, info.total, info.failures) == ("done", 8, 8, 0)
        assert info.attempts == 2 and _holder_pid(job_id) == survivor.pid
    _assert_each_photo_once(owner, 8)


def test_the_broker_restarted_mid_import_loses_nothing(
    broker: Broker, owner: int, data_dir: Path, tmp_path: Path
) -> None:
    with workers(1, _env(data_dir, broker.url), tmp_path / "logs"):
        first = _import(owner, small_photos(tmp_path / "a", 10), "First")
        second = _import(owner, small_photos(tmp_path / "b", 2, first=100), "Second")  # waits in the broker
        wait_for_job(owner, first, lambda i: i.status == "running" and i.done >= 2)
        broker.stop()
        third = _import(owner, small_photos(tmp_path / "c", 2, first=200), "Third")  # the send fails; the DB has it
        assert queue.job_info(owner, third).status == "queued"
        broker.start()
        finished = [wait_for_job(owner, job, lambda i: i.finished) for job in (first, second, third)]

    assert [(i.status, i.done, i.total, i.failures) for i in finished] == [
        ("done", 10, 10, 0), ("done", 2, 2, 0), ("done", 2, 2, 0)]
    assert [i.attempts for i in finished] == [1, 1, 1]  # nothing ran twice
    _assert_each_photo_once(owner, 14)


def test_four_workers_share_a_thousand_photos_and_import_each_exactly_once(
    redis: RedisServer, site: Path, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with postgres_server() as database_url:  # what workers on other machines would share
        monkeypatch.setenv("DATABASE_URL", database_url)
        monkeypatch.setenv("WEBTUBE_BROKER_REDELIVER_S", REDELIVER_S)
        _use(redis, monkeypatch)
        owner = register("Ada", EMAIL, PASSWORD, PASSWORD).id
        albums = [small_photos(tmp_path / f"album{n}", PER_IMPORT, first=n * PER_IMPORT) for n in range(IMPORTS)]
        env = worker_env(data_dir, redis.url, database_url)  # the default batches: the speed a site gets
        with workers(4, env, tmp_path / "logs") as four:
            wait_for_consumers(redis.url, 4)
            job_ids = [_import(owner, photos, f"Album {n}") for n, photos in enumerate(albums)]
            finished = [wait_for_job(owner, job, lambda i: i.finished) for job in job_ids]
            holders = {_holder_pid(job) for job in job_ids}

        assert [(i.status, i.done, i.failures, i.attempts) for i in finished] == [("done", PER_IMPORT, 0, 1)] * IMPORTS
        assert holders == {w.pid for w in four}  # the broker spread the jobs over all four
        _assert_each_photo_once(owner, IMPORTS * PER_IMPORT)
        get_settings.cache_clear()


def test_cancel_and_retry_work_through_the_broker(
    rabbitmq: RabbitServer, owner: int, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use(rabbitmq, monkeypatch)
    monkeypatch.setenv("WEBTUBE_STUDIO_IMPORT_ROOTS", str(tmp_path))  # server folders: kept when a job is cancelled
    get_settings.cache_clear()
    small_photos(tmp_path / "a", 12)
    small_photos(tmp_path / "b", 3, first=100)
    with workers(1, _env(data_dir, rabbitmq.url), tmp_path / "logs"):
        running = jobs.start_import(owner, [tmp_path / "a"], "Running", source="folder")
        waiting = jobs.start_import(owner, [tmp_path / "b"], "Waiting", source="folder")  # behind it: one worker
        wait_for_job(owner, running, lambda i: i.status == "running" and i.done >= 2)
        queue.cancel_job(owner, waiting)  # queued: cancelled at once; its delivery is dropped when it comes
        queue.cancel_job(owner, running)  # running: stops at its next check
        stopped = wait_for_job(owner, running, lambda i: i.finished)
        assert stopped.status == "cancelled" and 2 <= stopped.done < 12
        assert queue.job_info(owner, waiting).status == "cancelled"

        queue.retry_job(owner, waiting)
        queue.retry_job(owner, running)
        finished = [wait_for_job(owner, job, lambda i: i.finished) for job in (running, waiting)]

    assert [(i.status, i.done, i.total, i.failures) for i in finished] == [("done", 12, 12, 0), ("done", 3, 3, 0)]
    assert [i.attempts for i in finished] == [2, 1]  # the cancelled-while-queued job ran once, after its retry
    _assert_each_photo_once(owner, 15)
