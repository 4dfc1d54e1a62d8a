"""The attacks on the server's fetcher, repeated: DNS rebinding, a trickling server, a page naming private links.

Every test runs under `loopback_only` (names resolve only through the test's FakeDns, connections
go only to 127.0.0.1), so a guard that failed shows up as a hit on the local media server, never
as a request to the internet.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from core.videos.downloader import DownloadError, MediaError, ProbeError, download, probe
from core.videos.transfer import TransferLimits
from tests.support.media_server import PRIVATE_TARGET, FakeDns, MediaServer, Route

pytestmark = pytest.mark.usefixtures("loopback_only")

PUBLIC_ADDRESS = "93.184.216.34"
REBINDING_HOST = "rebind.example"
# Small limits so a trickling server is cut off in seconds: 1 kB/s over 1 s of waiting, 4 s in all.
FAST_LIMITS = TransferLimits(total_s=4.0, min_bytes_per_s=1000.0, window_s=1.0)


def _cached(cache: Path) -> list[str]:
    """What a cache folder holds besides its (empty) lock files: videos, or leftovers of a failed one."""
    return sorted(p.name for p in cache.iterdir() if p.suffix != ".lock") if cache.exists() else []


def _rebinding_dns(monkeypatch: pytest.MonkeyPatch, loopback_only: FakeDns, public_answers: int) -> list[str]:
    """A resolver for REBINDING_HOST that answers a public address `public_answers` times, then 127.0.0.1.

    Returns the answers given, in order, so a test can see which lookup was used to connect.
    """
    loopback_only[PUBLIC_ADDRESS] = [PUBLIC_ADDRESS]
    resolve = socket.getaddrinfo  # loopback_only's resolver
    answers: list[str] = []

    def getaddrinfo(host: object, port: object, *args: object, **kwargs: object) -> list:
        if host != REBINDING_HOST:
            return resolve(host, port, *args, **kwargs)
        answers.append(PUBLIC_ADDRESS if len(answers) < public_answers else "127.0.0.1")
        return resolve(answers[-1], port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


@pytest.mark.parametrize("public_answers", [1, 2, 3, 50])
def test_dns_rebinding_never_reaches_the_internal_server(
    public_answers: int, monkeypatch: pytest.MonkeyPatch, loopback_only: FakeDns, media_server: MediaServer
) -> None:
    """Whichever lookup turns to 127.0.0.1, the connection goes to an address that was checked: never the local page.

    With 2 public answers this is the reported attack: the link check and the request check saw
    the public address, and the connection used to resolve the name a third time.
    """
    answers = _rebinding_dns(monkeypatch, loopback_only, public_answers)
    port = media_server.base_url.rsplit(":", 1)[1]
    before = len(media_server.hits("watch.html"))
    with pytest.raises(ProbeError) as caught:
        probe(f"http://{REBINDING_HOST}:{port}/watch.html", allow_private=False)
    assert len(media_server.hits("watch.html")) == before
    assert caught.value.reason in {"unsafe", "offline"}  # refused at 127.0.0.1, or the public address unreachable
    if "127.0.0.1" in answers:
        assert caught.value.reason == "unsafe"
        assert "127.0.0.1" in caught.value.message


def test_a_server_sending_one_byte_every_3_s_is_cut_off(data_dir: Path, media_server: MediaServer) -> None:
    media_server.add("trickle.mp4", Route(body=b"x" * 100_000, content_type="video/mp4", trickle=(1, 3.0)))
    with pytest.raises(MediaError) as caught:
        download(media_server.url("trickle.mp4"), data_dir / "cache", 10_000_000, limits=FAST_LIMITS)
    assert caught.value.reason == "too_slow"
    assert "too slowly" in caught.value.message
    assert _cached(data_dir / "cache") == []


def test_a_stall_after_a_fast_start_is_cut_off_mid_download(
    data_dir: Path, media_server: MediaServer, media_clip: bytes
) -> None:
    """The probe reads the first bytes quickly; then the server sends one byte every 3 s."""
    route = Route(body=media_clip, content_type="video/mp4", trickle=(1, 3.0), trickle_after=200_000)
    media_server.add("stall.mp4", route)
    with pytest.raises(DownloadError) as caught:
        download(media_server.url("stall.mp4"), data_dir / "cache", 10_000_000, limits=FAST_LIMITS)
    assert caught.value.reason == "too_slow"
    assert _cached(data_dir / "cache") == []


def test_a_steady_but_endless_download_hits_the_overall_time_limit(data_dir: Path, media_server: MediaServer) -> None:
    """5 kB every 0.1 s is well over the minimum speed, but 1 MB would take 20 s: the 2 s limit stops it."""
    media_server.add("steady.mp4", Route(body=b"x" * 1_000_000, content_type="video/mp4", trickle=(5000, 0.1)))
    limits = TransferLimits(total_s=2.0, min_bytes_per_s=1000.0, window_s=1.0)
    with pytest.raises(MediaError) as caught:
        download(media_server.url("steady.mp4"), data_dir / "cache", 10_000_000, limits=limits)
    assert caught.value.reason == "too_slow"
    assert "longer than the 2 s limit" in caught.value.message


def test_a_probe_of_a_trickling_page_is_cut_off(media_server: MediaServer) -> None:
    page = b"<html><head><title>Slow</title></head><body>" + b" " * 10_000 + b"</body></html>"
    media_server.add("slow.html", Route(body=page, content_type="text/html", trickle=(1, 3.0)))
    with pytest.raises(ProbeError) as caught:
        probe(media_server.url("slow.html"), allow_private=True, limits=FAST_LIMITS)
    assert caught.value.reason == "too_slow"


def test_normal_speed_downloads_pass_the_limits(data_dir: Path, media_server: MediaServer, media_clip: bytes) -> None:
    saved = download(media_server.url("clip.mp4"), data_dir / "cache", 10_000_000, limits=FAST_LIMITS)
    assert saved.read_bytes() == media_clip


def test_a_page_naming_private_thumbnail_and_video_file_keeps_neither(media_server: MediaServer) -> None:
    """The page is on an allowed host; its <video> and poster point at a router, which viewers must never load."""
    body = (
        '<html><head><title>Router trap</title><meta property="og:image" content="http://192.168.1.1/admin/reboot.cgi">'
        '</head><body><video src="http://192.168.1.1/admin/reboot.cgi"></video></body></html>'
    )
    media_server.add("router-trap.html", Route(body=body.encode(), content_type="text/html"))
    info = probe(media_server.url("router-trap.html"), allow_private=False, allowed_hosts={"127.0.0.1"})
    assert info.title == "Router trap"
    assert info.thumbnail_url is None
    assert info.media_url is None


def test_public_thumbnail_and_video_file_are_kept(media_server: MediaServer) -> None:
    info = probe(media_server.url("watch.html"), allow_private=False, allowed_hosts={"127.0.0.1"})
    assert info.thumbnail_url == media_server.url("poster.jpg")
    assert info.media_url == media_server.url("clip.mp4")


def test_metadata_service_video_link_is_dropped(media_server: MediaServer) -> None:
    body = f'<html><head><title>T</title></head><body><video src="{PRIVATE_TARGET}/v.mp4"></video></body></html>'
    media_server.add("meta-trap.html", Route(body=body.encode(), content_type="text/html"))
    assert probe(media_server.url("meta-trap.html"), allow_private=False, allowed_hosts={"127.0.0.1"}).media_url is None
