"""The real HTTP API for the tests: `python -m core api` (uvicorn) on a free loopback port, on a given data folder."""

from __future__ import annotations

import os
import sys
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from tests.support.app_server import ROOT, TEST_ENV, free_port
from tests.support.server_process import ServerProcess


class ApiServer(ServerProcess):
    name, log_name, start_s, poll_s = "python -m core api", "api.log", 90.0, 0.2

    def __init__(self, data_dir: Path, env: Mapping[str, str]) -> None:
        super().__init__(data_dir)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        self.env |= {"WEBTUBE_DATA_DIR": str(data_dir), **TEST_ENV, **env, "PYTHONPATH": str(ROOT)}

    def command(self) -> list[str]:
        return [sys.executable, "-m", "core", "api", "--port", str(self.port)]

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/openapi.json", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def log(self) -> str:
        return (self.folder / self.log_name).read_text(errors="replace")


@contextmanager
def run_api_server(data_dir: Path, env: Mapping[str, str] | None = None) -> Iterator[ApiServer]:
    """Serve the API on `data_dir` (plus the tests' settings and `env`) until the block ends."""
    data_dir.mkdir(parents=True, exist_ok=True)
    server = ApiServer(data_dir, env or {})
    server.start()
    try:
        yield server
    finally:
        server.stop()
