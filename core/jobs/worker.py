"""`python -m core worker`: a process that takes jobs from the shared database, so heavy work leaves the app.

With WEBTUBE_BROKER_URL set the job ids come from the broker instead (core/jobs/broker_worker.py). Without it
the worker polls for queued jobs, runs `--threads` at once, puts back in the queue the jobs of workers that died
(every half minute), serves its metrics when WEBTUBE_METRICS_PORT is set, and on SIGTERM or Ctrl-C hands
the jobs it holds back to the queue before it exits, so another worker carries them on at once.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
import time

from sqlalchemy import select, update

from core.config import get_settings
from core.jobs import queue
from core.jobs.holders import new_identity
from core.jobs.runner import run_claimed
from core.monitoring import start_monitoring
from core.monitoring.logs import log_event
from core.storage.database import session_scope
from core.storage.studio_models import Job

POLL_S = 1.0
FINISH_S = 30.0  # after the hand-back, how long the job threads get to notice and stop before the process exits
RESUME_EVERY_S = 30.0
_log = logging.getLogger(__name__)


class Worker:
    def __init__(self, threads: int) -> None:
        self.identities = [new_identity() for _ in range(threads)]
        self.stopping = threading.Event()
        self.busy: set[str] = set()
        self._lock = threading.Lock()

    def _work(self, identity: str, once: bool) -> None:
        while not self.stopping.is_set():
            job_id = queue.claim_next(identity)
            if job_id is None:
                if once:
                    return
                self.stopping.wait(POLL_S)
                continue
            with self._lock:
                self.busy.add(identity)
            try:
                run_claimed(job_id, identity)
            except Exception:
                _log.exception("worker job %s", job_id)
            finally:
                with self._lock:
                    self.busy.discard(identity)

    def hand_back(self) -> list[int]:
        """Queue again the jobs this process still holds (it is stopping); returns their ids."""
        with session_scope() as session:
            held = session.scalars(select(Job.id).where(Job.worker.in_(self.identities), Job.status == "running")).all()
            session.execute(update(Job).where(Job.id.in_(held), Job.worker.in_(self.identities),
                                              Job.status == "running")
                            .values(status="queued", worker=None, cancel_requested=False))
            return list(held)

    def wait_idle(self, seconds: float) -> bool:
        """Wait until no job thread is inside a job (a handed-back job stops at its next check); False on timeout.
        Why: leaving while a thread is inside the models' native code can abort the interpreter at exit."""
        deadline = time.monotonic() + seconds
        while self.busy and time.monotonic() < deadline:
            time.sleep(0.1)
        return not self.busy

    def run(self, once: bool) -> None:
        threads = [threading.Thread(target=self._work, args=(identity, once), daemon=True, name=f"worker-{n}")
                   for n, identity in enumerate(self.identities)]
        for thread in threads:
            thread.start()
        next_resume = 0.0
        while any(thread.is_alive() for thread in threads) and not self.stopping.is_set():
            if time.monotonic() >= next_resume:
                queue.resume_interrupted()
                next_resume = time.monotonic() + RESUME_EVERY_S
            self.stopping.wait(POLL_S)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m core worker", description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="jobs run at once (default 1)")
    parser.add_argument("--once", action="store_true", help="exit when the queue is empty instead of waiting")
    args = parser.parse_args(argv)
    if not 1 <= args.threads <= 16:
        parser.error("--threads must be between 1 and 16")
    port = start_monitoring("worker")
    if get_settings().broker_url:
        from core.jobs.broker_link import get_link
        from core.jobs.broker_worker import BrokerWorker

        worker: Worker = BrokerWorker(args.threads, get_link())
    else:
        worker = Worker(args.threads)

    def stop(signum: int, _frame: object) -> None:
        worker.stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log_event("worker_started", workers=worker.identities, metrics_port=port)
    worker.run(args.once)
    handed = worker.hand_back()
    idle = worker.wait_idle(FINISH_S)
    log_event("worker_stopped", handed_back=len(handed), threads_stopped=idle)
    return 0
