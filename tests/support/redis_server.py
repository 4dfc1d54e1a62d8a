"""A real redis-server 7 for the tests: a loopback port, its own folder, the append-only file fsynced on every
write, so a restart (`restart()`) keeps the stream and its consumer group exactly as a crash-safe deployment would.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.app_server import free_port
from tests.support.server_process import ServerProcess

BINARY = "redis-server"


class RedisServer(ServerProcess):
    """One redis-server process at a time on a fixed port and folder; stop and start it again at will."""

    name, log_name, start_s, poll_s = BINARY, "redis.log", 20.0, 0.05

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        return [BINARY, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.folder),
                "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--protected-mode", "yes"]

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False


@contextmanager
def redis_server() -> Iterator[RedisServer]:
    """Start redis-server in a temporary folder; yields it (`.url`); stopped and removed afterwards."""
    if shutil.which(BINARY) is None:
        raise RuntimeError("redis-server is not installed (apt-get install redis-server); make test installs it.")
    server = RedisServer(Path(tempfile.mkdtemp(prefix="webtube-redis-")))
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.folder, ignore_errors=True)
