"""HTTPS through a pinned connection: the server is reached by number, yet TLS still speaks and checks the name.

A local HTTPS server on 127.0.0.1 holds a certificate for `secure.example` from a throwaway CA
(trustme), which yt-dlp is made to trust; the test's FakeDns maps the name to 127.0.0.1.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import trustme
import yt_dlp.networking._helper

from core.videos.downloader import DownloadError, fetch_bytes
from tests.support.media_server import FakeDns

pytestmark = pytest.mark.usefixtures("loopback_only")
NAME = "secure.example"
BODY = b"hello over TLS"


@dataclass
class TlsServer:
    port: int
    server_names: list[str | None] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    server: ThreadingHTTPServer

    def do_GET(self) -> None:
        self.server.seen.hosts.append(self.headers["Host"])  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet; the test reads what was seen."""


@pytest.fixture
def ca(monkeypatch: pytest.MonkeyPatch) -> trustme.CA:
    """A throwaway CA that yt-dlp's TLS contexts trust (instead of the system's store)."""
    authority = trustme.CA()
    monkeypatch.setattr(
        yt_dlp.networking._helper, "ssl_load_certs", lambda context, *_: authority.configure_trust(context)
    )
    return authority


def _serve(ca: trustme.CA, certificate_for: str) -> Iterator[TlsServer]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(certificate_for).configure_cert(context)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    seen = TlsServer(server.server_address[1])
    context.sni_callback = lambda sock, name, ctx: seen.server_names.append(name)  # type: ignore[assignment]
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.seen = seen  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def tls_server(ca: trustme.CA) -> Iterator[TlsServer]:
    yield from _serve(ca, NAME)


@pytest.fixture
def wrong_name_server(ca: trustme.CA) -> Iterator[TlsServer]:
    yield from _serve(ca, "other.example")


def test_a_pinned_https_connection_keeps_the_name_for_sni_host_and_certificate(
    tls_server: TlsServer, loopback_only: FakeDns
) -> None:
    loopback_only[NAME] = ["127.0.0.1"]
    body = fetch_bytes(f"https://{NAME}:{tls_server.port}/hello.txt", 1000, allow_private=False, allowed_hosts={NAME})
    assert body == BODY
    assert tls_server.server_names == [NAME]
    assert tls_server.hosts == [f"{NAME}:{tls_server.port}"]


def test_the_certificate_is_still_checked_against_the_name(
    wrong_name_server: TlsServer, loopback_only: FakeDns
) -> None:
    loopback_only[NAME] = ["127.0.0.1"]
    with pytest.raises(DownloadError):
        fetch_bytes(
            f"https://{NAME}:{wrong_name_server.port}/hello.txt", 1000, allow_private=False, allowed_hosts={NAME}
        )
    assert wrong_name_server.hosts == []
