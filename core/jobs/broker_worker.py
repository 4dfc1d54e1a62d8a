"""`python -m core worker` with WEBTUBE_BROKER_URL set: job ids come from the broker instead of a database poll.

Each of `--threads` consumers takes one delivery at a time. The job it names is claimed in the database (one
conditional update, so a second delivery of the same job finds it taken and is dropped) and run to its end
before the delivery is acknowledged. A delivery of a job still "running" under a holder that is gone (a
worker killed mid-job) takes the job over, and the kind's handler does only what is left (an import its
pending items). A job held by a live worker, or finished, is acknowledged and dropped: from then on that
holder's heartbeat in the database covers it. Every few seconds the worker also queues again the jobs of
dead holders (`queue.resume_interrupted`, whose wake sends them), and once idle for WEBTUBE_BROKER_REDELIVER_S
sends again the jobs that waited that long. On SIGTERM it takes no more deliveries, hands the jobs it holds
back in the database and sends them again, so another worker carries them on at once.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import time

from sqlalchemy import select, update

from core.config import get_settings
from core.jobs import queue
from core.jobs.broker_link import BrokerLink
from core.jobs.broker_relay import send_again, send_queued
from core.jobs.holders import held_here, holder_gone
from core.jobs.runner import run_claimed
from core.jobs.worker import Worker
from core.monitoring.logs import log_event
from core.storage.database import session_scope
from core.storage.models import utcnow
from core.storage.studio_models import Job

SWEEP_S = 5.0  # how often dead holders' jobs are looked for
START_RETRY_S = 5.0  # a broker away at start-up is tried again this often
_log = logging.getLogger(__name__)


class Stopping(Exception):
    """A delivery that arrived as the worker stops: it goes back to the broker unacknowledged."""


def take_over(job_id: int) -> bool:
    """Queue again a delivered job whose holder is gone (killed mid-job), so this worker can claim it."""
    with session_scope() as session:
        row = session.execute(select(Job.worker, Job.heartbeat_at).where(Job.id == job_id, Job.status == "running"))
        held = row.first()
    if held is None or held_here(held.worker) or not holder_gone(held.worker, held.heartbeat_at, utcnow()):
        return False
    with session_scope() as session:
        taken = session.execute(update(Job).where(Job.id == job_id, Job.status == "running", Job.worker == held.worker)
                                .values(status="queued", worker=None)).rowcount == 1
    if taken:
        log_event("job_taken_over", job_id=job_id, holder=held.worker)
    return taken


class BrokerWorker(Worker):
    def __init__(self, threads: int, link: BrokerLink) -> None:
        super().__init__(threads)
        self.link = link
        self.last_delivery = time.monotonic()

    def deliver(self, identity: str, job_id: int) -> None:
        """One delivery: claim the job (taking it over from a dead holder) and run it; dropped if nobody needs it."""
        self.last_delivery = time.monotonic()
        if self.stopping.is_set():
            raise Stopping
        take_over(job_id)
        if not queue.claim(job_id, identity):
            return  # taken, finished, cancelled or deleted: the database already has what it needs
        with self._lock:
            self.busy.add(identity)
        try:
            run_claimed(job_id, identity)
        finally:
            with self._lock:
                self.busy.discard(identity)
            self.last_delivery = time.monotonic()

    def _connect(self) -> bool:
        for identity in self.identities:
            self.link.consume(identity, functools.partial(self.deliver, identity))
        while not self.stopping.is_set():
            try:
                self.link.start()
                return True
            except Exception as exc:
                log_event("job_broker_unreachable", level="warning", error=f"{type(exc).__name__}: {exc}")
                self.stopping.wait(START_RETRY_S)
        return False

    def run(self, once: bool) -> None:
        """Consume until stopped (or, with `once`, until nothing is queued or held here)."""
        if not self._connect():
            return
        redeliver_s = get_settings().broker_redeliver_s
        while not self.stopping.is_set():
            try:
                queue.resume_interrupted()
                idle = not self.busy and time.monotonic() - self.last_delivery >= redeliver_s
                if idle:
                    send_again(redeliver_s)
                if once and not self.busy and not queue.queue_depth():
                    return
            except Exception:
                _log.exception("broker worker sweep")
            self.stopping.wait(SWEEP_S)

    def hand_back(self) -> list[int]:
        """No more deliveries; the jobs held here go back to the queue and to the broker."""
        self.stopping.set()
        with contextlib.suppress(Exception):
            self.link.stop_consuming()
        held = super().hand_back()
        for job_id in held:
            send_queued(job_id)
        with contextlib.suppress(Exception):
            self.link.close()
        return held
