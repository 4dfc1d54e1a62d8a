"""A real RabbitMQ 3.10 node for the tests: its own node name, ports, data and log folders, and its own epmd on a
loopback port, so it never meets the system's node or another test's; `restart()` keeps its durable queues.

Readiness is the AMQP greeting on the listener (RabbitMQ opens it last, once booted), which is much quicker
than `rabbitmqctl wait` (a second Erlang VM). Stopping is SIGTERM, RabbitMQ's graceful shutdown.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.app_server import free_port
from tests.support.server_process import ServerProcess

BIN = Path("/usr/lib/rabbitmq/bin")
START_S = 90.0  # a cold boot takes 10-20 s on a busy 2-core machine
STOP_S = 30.0


class RabbitServer(ServerProcess):
    """One RabbitMQ node at a time on fixed ports and folders; stop and start it again at will."""

    name, log_name, start_s, stop_s, poll_s = "rabbitmq-server", "server.log", START_S, STOP_S, 0.2

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.port, dist, self.epmd_port = free_port(), free_port(), free_port()
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}/"
        (folder / "rabbitmq.conf").write_text(f"listeners.tcp.1 = 127.0.0.1:{self.port}\nloopback_users = none\n")
        (folder / "enabled_plugins").write_text("[].\n")
        self.env = {
            **os.environ, "HOME": str(folder),  # the Erlang cookie lives here, private to this node
            "RABBITMQ_NODENAME": f"webtube-{self.port}@localhost", "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port), "RABBITMQ_DIST_PORT": str(dist),
            "RABBITMQ_MNESIA_BASE": str(folder / "mnesia"), "RABBITMQ_LOG_BASE": str(folder / "log"),
            "RABBITMQ_CONFIG_FILE": str(folder / "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(folder / "enabled_plugins"),
            "RABBITMQ_PID_FILE": str(folder / "rabbit.pid"),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
            "ERL_EPMD_PORT": str(self.epmd_port), "ERL_EPMD_ADDRESS": "127.0.0.1",
        }

    def command(self) -> list[str]:
        return [str(BIN / "rabbitmq-server")]

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as conn:
                conn.sendall(b"AMQP\x00\x00\x09\x01")
                return conn.recv(1) == b"\x01"  # a method frame: connection.start
        except OSError:
            return False

    def close(self) -> None:
        """Stop the node and its epmd (a daemon of its own once started)."""
        self.stop()
        subprocess.run(["epmd", "-port", str(self.epmd_port), "-kill"], env=self.env, timeout=15,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


@contextmanager
def rabbitmq_server() -> Iterator[RabbitServer]:
    """Start a RabbitMQ node in a temporary folder; yields it (`.url`); stopped and removed afterwards."""
    if not (BIN / "rabbitmq-server").exists():
        raise RuntimeError("RabbitMQ is not installed (apt-get install rabbitmq-server); make test installs it.")
    server = RabbitServer(Path(tempfile.mkdtemp(prefix="webtube-rabbitmq-")))
    try:
        server.start()
        yield server
    finally:
        server.close()
        shutil.rmtree(server.folder, ignore_errors=True)
