"""How the server's fetches connect: to the address that was checked, within a time limit and a minimum speed.

Two holes in a check-then-fetch design are closed here, below yt-dlp and `requests`, in urllib3's
connection classes (its documented extension point: a pool's `ConnectionCls`, an HTTP
connection's `response_class`):

- DNS rebinding: checking a name and then letting the connection resolve it again lets a
  resolver answer a public address to the check and 127.0.0.1 to the connection. A pinned
  connection resolves once, checks those very addresses (`checked_addresses`) and connects to
  one of them by number; the Host header, TLS SNI and certificate check keep the name.
- Slow servers: a socket timeout bounds each read, so a server sending one byte every 3 s never
  trips it. Every read of a response goes through a `Meter`, which cuts the transfer off once its
  overall time limit passes or the bytes received over a window of waiting fall under a minimum
  speed; reads wait at most until the next of those checkpoints, so a silent server is cut too.
"""

from __future__ import annotations

import http.client
import io
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import urllib3

from core.config import get_settings
from core.videos.urls import IPAddress

Resolver = Callable[[str, int], Sequence[IPAddress]]
PROBE_TIME_LIMIT_S = 60.0  # a page, not a video: a minute is plenty
SPEED_WINDOW_S = 20.0


class TransferLimitExceeded(OSError):
    """A transfer ran past its time limit or under its minimum speed; `str()` is for people."""


@dataclass(frozen=True)
class TransferLimits:
    """Overall time limit, and the minimum speed averaged over `window_s` seconds spent waiting for data."""

    total_s: float
    min_bytes_per_s: float
    window_s: float = SPEED_WINDOW_S

    @classmethod
    def for_download(cls) -> TransferLimits:
        settings = get_settings()
        return cls(settings.download_timeout_s, settings.download_min_kbps * 1000.0)

    @classmethod
    def for_probe(cls) -> TransferLimits:
        limits = cls.for_download()
        return cls(min(limits.total_s, PROBE_TIME_LIMIT_S), limits.min_bytes_per_s, limits.window_s)


class Meter:
    """The clock and byte count of one probe or download, shared by all its connections (one thread)."""

    def __init__(self, limits: TransferLimits) -> None:
        self.limits = limits
        self.exceeded: TransferLimitExceeded | None = None
        self._deadline = time.monotonic() + limits.total_s
        self._window_bytes = 0
        self._window_waited = 0.0

    def check(self) -> None:
        """Raise once the transfer is over its limits; every later request and read raises again."""
        if self.exceeded is None and time.monotonic() > self._deadline:
            self._fail(f"The site took longer than the {_seconds(self.limits.total_s)} limit, so WebTube stopped.")
        if self.exceeded is not None:
            raise self.exceeded

    def read_timeout(self, base: float | None) -> float:
        """How long the next read may wait: until the socket's own timeout, the deadline or the next speed check."""
        waits = [self._deadline - time.monotonic(), self.limits.window_s - self._window_waited]
        if base is not None:
            waits.append(base)
        return max(min(waits), 0.001)

    def record(self, waited_s: float, received: int) -> None:
        """Count one read; raises when the speed over the last window fell under the minimum."""
        self._window_waited += waited_s
        self._window_bytes += received
        if self._window_waited >= self.limits.window_s:
            speed = self._window_bytes / self._window_waited
            self._window_bytes, self._window_waited = 0, 0.0
            if speed < self.limits.min_bytes_per_s:
                self._fail(
                    f"The site sent the video too slowly ({speed / 1000:.2f} kB/s, under the "
                    f"{self.limits.min_bytes_per_s / 1000:g} kB/s minimum), so WebTube stopped."
                )
        self.check()

    def _fail(self, message: str) -> None:
        self.exceeded = TransferLimitExceeded(message)
        raise self.exceeded


class _MeteredReader(io.RawIOBase):
    """Reads a response's socket directly, each read bounded and counted by the Meter.

    It keeps the socket's own `makefile` reader open (unused) so the socket stays open as long as
    the response, exactly as http.client expects.
    """

    def __init__(self, sock: socket.socket, keep_open: io.RawIOBase, meter: Meter) -> None:
        self._sock = sock
        self._keep_open = keep_open
        self._meter = meter
        self._base_timeout = sock.gettimeout()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        silent = 0.0
        while True:
            self._meter.check()
            self._sock.settimeout(self._meter.read_timeout(self._base_timeout))
            started = time.monotonic()
            try:
                received = self._sock.recv_into(buffer)
            except TimeoutError:
                waited = time.monotonic() - started
                silent += waited
                self._meter.record(waited, 0)
                if self._base_timeout is not None and silent >= self._base_timeout:
                    raise
                continue
            finally:
                self._sock.settimeout(self._base_timeout)
            self._meter.record(time.monotonic() - started, received)
            return received

    def close(self) -> None:
        self._keep_open.close()
        super().close()


def _metered_response(meter: Meter) -> type[http.client.HTTPResponse]:
    class MeteredResponse(http.client.HTTPResponse):
        def __init__(self, sock: socket.socket, *args: Any, **kwargs: Any) -> None:
            super().__init__(sock, *args, **kwargs)
            keep_open = self.fp.detach()
            self.fp = io.BufferedReader(_MeteredReader(sock, keep_open, meter))

    return MeteredResponse


def pool_classes(meter: Meter, resolve: Resolver | None) -> dict[str, type[urllib3.HTTPConnectionPool]]:
    """urllib3 pool classes whose connections are metered and, with `resolve`, pinned to checked addresses.

    Without `resolve` (connections to a configured proxy) the proxy is connected to as named; the
    target is then resolved by the proxy, so only the name-level checks before each request apply.
    """
    response_class = _metered_response(meter)

    def connection(base: type[urllib3.connection.HTTPConnection]) -> type[urllib3.connection.HTTPConnection]:
        class Connection(base):  # type: ignore[valid-type, misc]
            def _new_conn(self) -> socket.socket:
                if resolve is None or self.proxy is not None:
                    return super()._new_conn()
                name = self._dns_host
                addresses = resolve(name, self.port or self.default_port)
                last_error: Exception | None = None
                try:
                    for address in addresses:
                        self._dns_host = str(address)  # connect by number; Host and SNI still use the name
                        try:
                            return super()._new_conn()
                        except (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError) as exc:
                            last_error = exc
                finally:
                    self._dns_host = name
                raise last_error or OSError(f"{name} has no address to connect to")

        Connection.response_class = response_class
        return Connection

    class HTTPPool(urllib3.HTTPConnectionPool):
        ConnectionCls = connection(urllib3.connection.HTTPConnection)

    class HTTPSPool(urllib3.HTTPSConnectionPool):
        ConnectionCls = connection(urllib3.connection.HTTPSConnection)

    return {"http": HTTPPool, "https": HTTPSPool}


def _seconds(value: float) -> str:
    return f"{value:g} s" if value < 120 else f"{value / 60:g} min"
