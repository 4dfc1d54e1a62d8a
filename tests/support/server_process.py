"""One server process of the tests' own (a broker): start it and wait until it answers, stop it gracefully, restart.

Redis and RabbitMQ differ only in their command, environment, log file and how they say they are ready; the
start-wait-stop cycle, with its bounds and the log tail in the error, is this one class.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path


class ServerProcess:
    """Subclasses set `name`, `log_name`, `start_s`, `stop_s`, `poll_s` and give `command()` and `answers()`."""

    name = "server"
    log_name = "server.log"
    start_s, stop_s, poll_s = 20.0, 15.0, 0.1

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.env: dict[str, str] = dict(os.environ)
        self._process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def answers(self) -> bool:
        raise NotImplementedError

    def start(self) -> None:
        log_path = self.folder / self.log_name
        with log_path.open("ab") as log:
            self._process = subprocess.Popen(self.command(), env=self.env, cwd=self.folder, stdout=log,
                                             stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + self.start_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {log_path.read_text()[-2000:]}")
            if self.answers():
                return
            time.sleep(self.poll_s)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer within {self.start_s:.0f} s")

    def stop(self) -> None:
        """SIGTERM to its process group (the server's graceful shutdown), SIGKILL if it does not go in time."""
        if self._process is None:
            return
        if self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(self.stop_s)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait(5)
        self._process = None

    def restart(self) -> None:
        self.stop()
        self.start()
