"""The real app for browser tests: `streamlit run serve.py` on a free loopback port, and a headless Chromium.

Reusable by any browser test: `run_app_server(data_dir, env={...})` takes extra environment
(thresholds, fake devices), `launch_chromium(playwright, extra_args=[...])` extra Chromium flags
(e.g. a fake webcam). Chromium is Debian's /usr/bin/chromium, driven by the playwright package;
nothing is downloaded. The server's output is kept in `<data_dir>/streamlit.log` for failures.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)
TEST_ENV = {
    "WEBTUBE_ALLOW_PRIVATE_URLS": "true",  # the media server is on 127.0.0.1
    "WEBTUBE_BCRYPT_ROUNDS": "4",
}


@dataclass(frozen=True)
class AppServer:
    url: str  # http://127.0.0.1:PORT, no trailing slash
    data_dir: Path
    log_path: Path

    def log(self) -> str:
        """What the server printed so far (for assertion messages)."""
        return self.log_path.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@contextmanager
def run_app_server(data_dir: Path, env: Mapping[str, str] | None = None, timeout_s: float = 90) -> Iterator[AppServer]:
    """Start the app with its data in `data_dir` (plus TEST_ENV and `env`) and stop it afterwards."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    environment |= {"WEBTUBE_DATA_DIR": str(data_dir), **TEST_ENV, **(env or {})}
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(ROOT / "serve.py"),  # app.py plus WebTube's own routes (file downloads), as `make run` starts it
        "--server.headless=true",
        "--server.address=127.0.0.1",
        f"--server.port={port}",
        "--server.fileWatcherType=none",
        "--browser.gatherUsageStats=false",
    ]
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "streamlit.log"
    server = AppServer(f"http://127.0.0.1:{port}", data_dir, log_path)
    with log_path.open("w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout_s
            while not _healthy(server.url):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"streamlit did not start:\n{server.log()}")
                time.sleep(0.25)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def launch_chromium(playwright: Any, extra_args: Sequence[str] = ()) -> Any:
    """Headless Debian Chromium with the flags this machine needs, plus `extra_args`."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *extra_args], headless=True)


def wait_for_run(page: Any) -> None:
    """Wait until the page's script run has ended. On a loaded machine a click or a fill made while a run was
    still going on (a sign-in's switch to the feed, the camera widget's rerun) was seen to be lost: the next
    screen never came."""
    ended = "[data-testid='stApp'][data-test-script-state='notRunning']"
    page.wait_for_timeout(300)  # a click's rerun may take a moment to start
    page.wait_for_selector(ended, state="attached")
    page.wait_for_timeout(500)  # the camera widget reruns the page a moment after a run: let that one end too
    page.wait_for_selector(ended, state="attached")
