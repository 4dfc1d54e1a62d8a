"""The hosted stack on one machine: N Streamlit app servers, coturn and Caddy, started and stopped together.

`python -m core hosting serve` (and `make serve-https`) runs it for real; the tests start the same stack
on loopback ports. Caddy terminates TLS (its own CA unless WEBTUBE_TLS names an ACME email), routes a
browser to one app server by cookie, and sets the security headers (deploy/Caddyfile); coturn relays
webcam media with credentials the app mints from a secret made on first run (deploy/turnserver.conf).
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from core.config import PROJECT_ROOT, get_settings

DEPLOY = PROJECT_ROOT / "deploy"
TOOLS = {"caddy": "caddy", "turnserver": "coturn"}  # program -> Debian package


class StackError(Exception):
    """The stack could not start; the sentence says which part and why."""


@dataclass
class StackOptions:
    site: str = "webtube.localhost"  # the name people type; it must resolve to this machine
    https_port: int = 8443
    app_ports: tuple[int, ...] = (8501,)
    turn_port: int = 3478  # 0: no relay
    listen_ip: str = "127.0.0.1"  # where coturn listens and relays from; a public address when hosted
    allow_loopback_peers: bool = False  # coturn refuses to relay to 127.0.0.1 unless told (one-machine tests)
    relay_log_every_request: bool = False  # coturn's --verbose: each allocation and permission in its log
    app_env: Mapping[str, str] = field(default_factory=dict)  # extra settings for every app server
    state_dir: Path | None = None  # secrets, Caddy's CA and logs; default <data dir>/hosting


def missing_tools() -> list[str]:
    """Debian packages to install before the stack can start."""
    return [package for program, package in TOOLS.items() if shutil.which(program) is None]


def this_machines_addresses() -> set[str]:
    """Every IPv4 address of this machine: where the app servers (aiortc) offer their media candidates."""
    import psutil

    return {a.address for addrs in psutil.net_if_addrs().values() for a in addrs if a.family == socket.AF_INET}


def turn_secret(state_dir: Path) -> str:
    """The relay's shared secret, made on first run and kept readable by this user only."""
    path = state_dir / "turn-secret"
    if not path.exists():
        state_dir.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _answers_tls(site: str, port: int, path: str) -> bool:
    """A GET to the proxy on this machine as the browser sends it (SNI and Host: the site's name); Caddy's
    own CA is not in the system's trust store, so the certificate is not checked here."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    try:
        ipaddress.ip_address(site)
        host = site  # an address site (a LAN): no SNI is sent for it, so dial the address itself
    except ValueError:
        host = "127.0.0.1"
    try:
        with socket.create_connection((host, port), timeout=2) as raw, \
                context.wrap_socket(raw, server_hostname=site) as tls:
            tls.sendall(f"GET {path} HTTP/1.1\r\nHost: {site}:{port}\r\nConnection: close\r\n\r\n".encode())
            return tls.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def _wait_for(check: Callable[[], bool], process: subprocess.Popen, what: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StackError(f"{what} stopped at start (exit {process.returncode}); see its log.")
        if check():
            return
        time.sleep(0.25)
    raise StackError(f"{what} did not answer within {timeout_s:.0f} s; see its log.")


def _port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


class HostedStack:
    """Start with `start()`, stop with `stop()` (or use it as a context manager)."""

    def __init__(self, options: StackOptions) -> None:
        self.options = options
        self.state_dir = options.state_dir or get_settings().data_dir / "hosting"
        self.processes: dict[str, subprocess.Popen] = {}
        self._logs: list = []

    @property
    def url(self) -> str:
        return f"https://{self.options.site}:{self.options.https_port}"

    def log_path(self, name: str) -> Path:
        return self.state_dir / "logs" / f"{name}.log"

    def _spawn(self, name: str, command: list[str], env: Mapping[str, str]) -> subprocess.Popen:
        self.log_path(name).parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path(name).open("w")
        self._logs.append(log)
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env={**os.environ, **env}, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        self.processes[name] = process
        return process

    def _app_env(self, secret: str) -> dict[str, str]:
        env = dict(self.options.app_env)
        if self.options.turn_port:
            host = self.options.site
            env.setdefault("WEBTUBE_TURN_URLS", f"turn:{host}:{self.options.turn_port}?transport=udp,"
                                                f"turn:{host}:{self.options.turn_port}?transport=tcp")
            env.setdefault("WEBTUBE_TURN_SECRET", secret)
        return env

    def _start_turn(self, secret: str) -> None:
        o = self.options
        command = ["turnserver", "-c", str(DEPLOY / "turnserver.conf"), "--static-auth-secret", secret,
                   "--listening-ip", o.listen_ip, "--relay-ip", o.listen_ip, "--listening-port", str(o.turn_port),
                   "--log-file", str(self.log_path("coturn-relay")), "--simple-log", "--no-stdout-log",
                   "--pidfile", str(self.state_dir / "coturn.pid"), "--no-tls", "--no-dtls"]
        for app_ip in sorted(this_machines_addresses() | {o.listen_ip}):  # the app servers: the only peers allowed
            command += ["--allowed-peer-ip", app_ip]
        if o.allow_loopback_peers:
            command.append("--allow-loopback-peers")
        if o.relay_log_every_request:
            command.append("--verbose")
        process = self._spawn("coturn", command, {})
        deadline = time.monotonic() + 15
        while not _port_open(o.turn_port, o.listen_ip):
            if process.poll() is not None or time.monotonic() > deadline:
                raise StackError("coturn did not start; see its log.")
            time.sleep(0.2)

    def start(self) -> HostedStack:
        """Start every part, or none: a part that fails to start stops the ones already running."""
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> HostedStack:
        if missing := missing_tools():
            raise StackError(f"Install {' and '.join(missing)} first (apt-get install {' '.join(missing)}).")
        o = self.options
        secret = turn_secret(self.state_dir)
        if o.turn_port:
            self._start_turn(secret)
        app_env = self._app_env(secret)
        for port in o.app_ports:
            self._spawn(f"app-{port}", [
                sys.executable, "-m", "streamlit", "run", str(PROJECT_ROOT / "serve.py"), "--server.headless=true",
                "--server.address=127.0.0.1", f"--server.port={port}", "--server.fileWatcherType=none",
                "--browser.gatherUsageStats=false", "--server.enableXsrfProtection=true",
                "--client.showErrorDetails=none"], app_env)
        for port in o.app_ports:
            health = f"http://127.0.0.1:{port}/_stcore/health"
            _wait_for(lambda url=health: _answers(url), self.processes[f"app-{port}"],
                      f"The app server on port {port}", 120)
        caddy_env = {"WEBTUBE_SITE": o.site, "WEBTUBE_HTTPS_PORT": str(o.https_port),
                     "WEBTUBE_UPSTREAMS": " ".join(f"127.0.0.1:{port}" for port in o.app_ports),
                     "WEBTUBE_CADDY_DATA": str(self.state_dir / "caddy"),
                     "XDG_DATA_HOME": str(self.state_dir / "caddy-home"),
                     "XDG_CONFIG_HOME": str(self.state_dir / "caddy-home")}
        caddy = self._spawn("caddy", ["caddy", "run", "--config", str(DEPLOY / "Caddyfile"), "--adapter",
                                      "caddyfile"], caddy_env)
        _wait_for(lambda: _answers_tls(o.site, o.https_port, "/_stcore/health"), caddy, "Caddy", 30)
        return self

    def stop_app(self, port: int) -> None:
        """Stop one app server (the proxy then sends its people to the others)."""
        process = self.processes.pop(f"app-{port}")
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(20)

    def stop(self) -> None:
        for process in reversed(list(self.processes.values())):
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                    process.wait(15)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    process.kill()
        self.processes.clear()
        for log in self._logs:
            log.close()

    def __enter__(self) -> HostedStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
