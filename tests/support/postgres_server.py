"""A real PostgreSQL 15 for the tests: `initdb` into a temporary folder, a loopback port, trust auth.

PostgreSQL refuses to run as root, so under root (CI, this machine) the server runs as the `postgres`
system user that Debian's package creates; otherwise as the current user.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.app_server import free_port

BIN = Path("/usr/lib/postgresql/15/bin")


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextmanager
def postgres_server(database: str = "webtube") -> Iterator[str]:
    """Start PostgreSQL in a temporary folder of its own (pytest's are private to root, and the server
    runs as `postgres`); yields a SQLAlchemy URL for a fresh `database`; everything goes afterwards."""
    if not (BIN / "initdb").exists():
        raise RuntimeError("PostgreSQL 15 is not installed (apt-get install postgresql); make test installs it.")
    folder = Path(tempfile.mkdtemp(prefix="webtube-postgres-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    data, port = folder / "data", free_port()
    run = {"check": True, "stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE}
    subprocess.run(_as_server_user([str(BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                                    "--no-sync", "-E", "UTF8"]), **run)
    subprocess.run(_as_server_user([str(BIN / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"), "-w",
                                    "-o", f"-h 127.0.0.1 -p {port} -k {folder} -c fsync=off", "start"]), **run)
    try:
        subprocess.run(_as_server_user([str(BIN / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U",
                                        "postgres", database]), **run)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/{database}"
    finally:
        subprocess.run(_as_server_user([str(BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(folder, ignore_errors=True)
