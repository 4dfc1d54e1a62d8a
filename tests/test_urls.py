"""core.videos.urls: YouTube links of every shape, and the links the server must refuse to fetch."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from core.config import get_settings
from core.videos.urls import (
    MAX_URL_LENGTH,
    InvalidUrl,
    UnresolvableHost,
    UnsafeUrl,
    UrlError,
    YouTubeRef,
    check_url,
    checked_addresses,
    is_public_address,
    normalise_url,
    parse_youtube,
    safe_for_viewers,
)
from tests.support.media_server import FakeDns

VIDEO_ID = "dQw4w9WgXcQ"
ODD_ID = "a-B_c1D2e3F"

YOUTUBE_SHAPES = [
    (f"https://www.youtube.com/watch?v={VIDEO_ID}", None),
    (f"http://youtube.com/watch?v={VIDEO_ID}", None),
    (f"www.youtube.com/watch?v={VIDEO_ID}", None),
    (f"  https://www.youtube.com/watch?v={VIDEO_ID}  ", None),
    (f"HTTPS://WWW.YOUTUBE.COM/watch?v={VIDEO_ID}", None),
    (f"https://www.youtube.com/watch?feature=share&v={VIDEO_ID}", None),
    (f"https://www.youtube.com/watch?v={VIDEO_ID}&list=PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG&index=3", None),
    (f"https://www.youtube.com/watch?v={VIDEO_ID}&t=1m30s", 90),
    (f"https://www.youtube.com/watch?v={VIDEO_ID}&t=90", 90),
    (f"https://www.youtube.com/watch?v={VIDEO_ID}&t=90s", 90),
    (f"https://www.youtube.com/watch?v={VIDEO_ID}&t=1h2m3s", 3723),
    (f"https://www.youtube.com/watch?v={VIDEO_ID}#t=45", 45),
    (f"https://m.youtube.com/watch?v={VIDEO_ID}", None),
    (f"https://music.youtube.com/watch?v={VIDEO_ID}&si=Xy12abc", None),
    (f"https://youtu.be/{VIDEO_ID}", None),
    (f"https://youtu.be/{VIDEO_ID}?si=AbCdEfGh123&t=90", 90),
    (f"youtu.be/{VIDEO_ID}", None),
    (f"https://www.youtube.com/shorts/{VIDEO_ID}", None),
    (f"https://youtube.com/shorts/{VIDEO_ID}/?feature=share", None),
    (f"https://www.youtube.com/embed/{VIDEO_ID}", None),
    (f"https://www.youtube.com/embed/{VIDEO_ID}?start=90&autoplay=1", 90),
    (f"https://www.youtube-nocookie.com/embed/{VIDEO_ID}?start=90", 90),
    (f"https://youtube-nocookie.com/embed/{VIDEO_ID}", None),
    (f"https://www.youtube.com/v/{VIDEO_ID}?version=3", None),
    (f"https://www.youtube.com/live/{VIDEO_ID}?si=abc", None),
]


@pytest.mark.parametrize(("url", "start"), YOUTUBE_SHAPES)
def test_every_youtube_shape_gives_the_same_video(url: str, start: int | None) -> None:
    ref = parse_youtube(url)
    assert ref == YouTubeRef(VIDEO_ID, start)
    assert ref.canonical_url == f"https://www.youtube.com/watch?v={VIDEO_ID}"


def test_ids_with_dash_and_underscore_are_kept_exactly() -> None:
    assert parse_youtube(f"https://youtu.be/{ODD_ID}") == YouTubeRef(ODD_ID, None)


@pytest.mark.parametrize(
    "url",
    [
        "",
        "not a link",
        f"https://www.youtube.com/watch?v={VIDEO_ID[:10]}",
        f"https://www.youtube.com/watch?v={VIDEO_ID}x",
        f"https://www.youtube.com/watch?v={VIDEO_ID[:10]}!",
        "https://www.youtube.com/watch",
        "https://www.youtube.com/playlist?list=PLx0sYbCqOb8TBPRdmBHs5Iftvv9TPboYG",
        "https://www.youtube.com/@somechannel",
        "https://www.youtube.com/channel/UCuAXFkgsw1L7xaCfnd5JJOw",
        f"https://youtu.be/{VIDEO_ID}/extra",
        f"https://www.youtube.com/shorts/{VIDEO_ID}/extra",
        f"https://youtube.com.evil.example/watch?v={VIDEO_ID}",
        f"https://evil.example/watch?v={VIDEO_ID}",
        f"https://notyoutu.be/{VIDEO_ID}",
        f"ftp://youtu.be/{VIDEO_ID}",
        f"javascript:alert('https://youtu.be/{VIDEO_ID}')",
        f"https://vimeo.com/{VIDEO_ID}",
    ],
)
def test_anything_else_is_not_youtube(url: str) -> None:
    assert parse_youtube(url) is None


@pytest.mark.parametrize("stamp", ["0", "0s", "abc", "1x", "-5", "1m-3s"])
def test_unusable_start_times_are_dropped_not_fatal(stamp: str) -> None:
    assert parse_youtube(f"https://youtu.be/{VIDEO_ID}?t={stamp}") == YouTubeRef(VIDEO_ID, None)


def test_youtube_ref_urls() -> None:
    plain, timed = YouTubeRef(VIDEO_ID), YouTubeRef(VIDEO_ID, 90)
    assert plain.watch_url == f"https://www.youtube.com/watch?v={VIDEO_ID}"
    assert plain.embed_url == f"https://www.youtube-nocookie.com/embed/{VIDEO_ID}"
    assert plain.thumbnail_url == f"https://i.ytimg.com/vi/{VIDEO_ID}/hqdefault.jpg"
    assert timed.canonical_url == plain.canonical_url
    assert timed.watch_url == f"https://www.youtube.com/watch?v={VIDEO_ID}&t=90s"
    assert timed.embed_url == f"https://www.youtube-nocookie.com/embed/{VIDEO_ID}?start=90"
    assert timed.thumbnail_url == plain.thumbnail_url


@pytest.mark.parametrize(("video_id", "start"), [("short", None), ('"><script>', None), (VIDEO_ID, 0), (VIDEO_ID, -3)])
def test_youtube_ref_refuses_what_would_make_a_broken_url(video_id: str, start: int | None) -> None:
    with pytest.raises(InvalidUrl):
        YouTubeRef(video_id, start)


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("", InvalidUrl),
        ("   ", InvalidUrl),
        ("javascript:alert(1)", InvalidUrl),
        ("JavaScript:alert(document.cookie)", InvalidUrl),
        ("file:///etc/passwd", InvalidUrl),
        ("data:text/html,<script>alert(1)</script>", InvalidUrl),
        ("ftp://ftp.example.com/video.mp4", InvalidUrl),
        ("gopher://127.0.0.1:6379/_INFO", InvalidUrl),
        ("http://" + "a" * MAX_URL_LENGTH + ".example/", InvalidUrl),
        ("http://exa mple.com/", InvalidUrl),
        ("http://example.com/\nHost: evil", InvalidUrl),
        ("http://example.com\\@127.0.0.1/", InvalidUrl),
        ("http://[::1/", InvalidUrl),
        ("http://example.com:99999/", InvalidUrl),
        ("http://a..b/", InvalidUrl),
        ("http://256.1.1.1/", InvalidUrl),
        ("http:///path-only", InvalidUrl),
        ("http://user:pw@example.com/", UnsafeUrl),
        ("http://user@example.com/", UnsafeUrl),
        ("http://example.com@169.254.169.254/", UnsafeUrl),
        ("http://169.254.169.254/", UnsafeUrl),
        ("http://169.254.169.254/latest/meta-data/", UnsafeUrl),
        ("http://127.0.0.1:8501/", UnsafeUrl),
        ("http://localhost/", UnsafeUrl),
        ("http://LOCALHOST./admin", UnsafeUrl),
        ("localhost:8501/", UnsafeUrl),
        ("http://[::1]/", UnsafeUrl),
        ("http://[::]/", UnsafeUrl),
        ("http://[::ffff:127.0.0.1]/", UnsafeUrl),
        ("http://[::ffff:169.254.169.254]/", UnsafeUrl),
        ("http://[fe80::1]/", UnsafeUrl),
        ("http://[fd00::1]/", UnsafeUrl),
        ("http://[2002:7f00:1::]/", UnsafeUrl),
        ("http://[64:ff9b::a9fe:a9fe]/", UnsafeUrl),
        ("http://2130706433/", UnsafeUrl),
        ("http://0x7f.1/", UnsafeUrl),
        ("http://0x7f000001/", UnsafeUrl),
        ("http://017700000001/", UnsafeUrl),
        ("http://0177.0.0.1/", UnsafeUrl),
        ("http://127.1/", UnsafeUrl),
        ("http://0/", UnsafeUrl),
        ("http://0.0.0.0:8501/", UnsafeUrl),
        ("http://10.0.0.1/", UnsafeUrl),
        ("http://172.16.5.4/", UnsafeUrl),
        ("http://192.168.1.1/", UnsafeUrl),
        ("http://100.64.0.1/", UnsafeUrl),
        ("http://224.0.0.1/", UnsafeUrl),
        ("http://240.0.0.1/", UnsafeUrl),
        ("http://255.255.255.255/", UnsafeUrl),
    ],
)
def test_hostile_urls_are_refused_with_the_right_error(url: str, error: type[UrlError], loopback_only: FakeDns) -> None:
    with pytest.raises(error) as caught:
        check_url(url, allow_private=False)
    message = str(caught.value)
    assert message and "Traceback" not in message


def test_errors_are_value_errors_people_can_read() -> None:
    assert issubclass(UrlError, ValueError)
    with pytest.raises(UnsafeUrl, match="private or local network address"):
        check_url("http://169.254.169.254/", allow_private=False)
    with pytest.raises(InvalidUrl, match="http:// or https://"):
        check_url("file:///etc/passwd", allow_private=False)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("  HTTPS://WWW.Example.COM/Path?q=A#Frag  ", "https://www.example.com/Path?q=A#Frag"),
        ("https://www.example.com:443/a", "https://www.example.com/a"),
        ("http://www.example.com:80/a", "http://www.example.com/a"),
        ("http://www.example.com:8080/a", "http://www.example.com:8080/a"),
        ("https://www.example.com", "https://www.example.com/"),
        ("www.example.com/watch?v=1", "https://www.example.com/watch?v=1"),
        ("//www.example.com/a", "https://www.example.com/a"),
        ("https://www.example.com./a", "https://www.example.com/a"),
        ("https://Bücher.example/video", "https://xn--bcher-kva.example/video"),
    ],
)
def test_check_url_returns_the_normalised_url(url: str, expected: str, loopback_only: FakeDns) -> None:
    loopback_only.update({"www.example.com": ["93.184.215.14"], "xn--bcher-kva.example": ["93.184.215.15"]})
    assert check_url(url, allow_private=False) == expected
    assert normalise_url(url) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://134744072/", "http://8.8.8.8/"),
        ("http://0x8.0x8.0x8.0x8/", "http://8.8.8.8/"),
        ("http://8.8.2056/", "http://8.8.8.8/"),
        ("http://[2606:4700:4700:0000::1111]/", "http://[2606:4700:4700::1111]/"),
    ],
)
def test_public_ip_literals_need_no_dns_and_are_spelled_canonically(
    url: str, expected: str, loopback_only: FakeDns
) -> None:
    assert check_url(url, allow_private=False) == expected


def test_a_name_that_resolves_to_a_private_address_is_refused(loopback_only: FakeDns) -> None:
    loopback_only["intranet.example"] = ["10.1.2.3"]
    with pytest.raises(UnsafeUrl, match=r"10\.1\.2\.3"):
        check_url("https://intranet.example/video.mp4", allow_private=False)


def test_one_private_address_among_public_ones_is_enough_to_refuse(loopback_only: FakeDns) -> None:
    loopback_only["rebind.example"] = ["93.184.215.14", "169.254.169.254"]
    with pytest.raises(UnsafeUrl):
        check_url("https://rebind.example/", allow_private=False)


def test_a_name_that_does_not_resolve_says_so(loopback_only: FakeDns) -> None:
    with pytest.raises(UnresolvableHost, match="offline"):
        check_url("https://no-such-site.example/video", allow_private=False)
    with pytest.raises(UnresolvableHost):
        check_url("https://no-such-site.example/video", allow_private=True)


def test_allow_private_accepts_local_addresses(loopback_only: FakeDns) -> None:
    loopback_only["intranet.example"] = ["10.1.2.3"]
    assert check_url("http://127.0.0.1:8501/x", allow_private=True) == "http://127.0.0.1:8501/x"
    assert check_url("https://intranet.example/v", allow_private=True) == "https://intranet.example/v"
    with pytest.raises(UnsafeUrl):
        check_url("http://user:pw@127.0.0.1/", allow_private=True)
    with pytest.raises(InvalidUrl):
        check_url("file:///etc/passwd", allow_private=True)


def test_allowed_hosts_exempt_only_the_named_hosts(loopback_only: FakeDns) -> None:
    assert check_url("http://127.0.0.1:9/x", allow_private=False, allowed_hosts={"127.0.0.1"}) == "http://127.0.0.1:9/x"
    with pytest.raises(UnsafeUrl):
        check_url("http://169.254.169.254/", allow_private=False, allowed_hosts={"127.0.0.1"})
    with pytest.raises(UnsafeUrl):
        check_url("http://localhost/", allow_private=False, allowed_hosts={"127.0.0.1"})


def test_allow_private_defaults_to_the_setting(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, loopback_only: FakeDns
) -> None:
    assert get_settings().allow_private_urls
    assert check_url("http://127.0.0.1:8501/") == "http://127.0.0.1:8501/"
    monkeypatch.setenv("WEBTUBE_ALLOW_PRIVATE_URLS", "false")
    get_settings.cache_clear()
    with pytest.raises(UnsafeUrl):
        check_url("http://127.0.0.1:8501/")


def test_normalise_url_needs_no_network(loopback_only: FakeDns) -> None:
    assert normalise_url("https://unresolvable.example/a") == "https://unresolvable.example/a"
    assert normalise_url("http://2130706433/") == "http://127.0.0.1/"


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("93.184.215.14", True),
        ("2606:4700:4700::1111", True),
        ("2002:808:808::", True),
        ("64:ff9b::808:808", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("192.0.2.1", False),
        ("198.18.0.1", False),
        ("224.0.0.1", False),
        ("239.255.255.250", False),
        ("240.0.0.1", False),
        ("0.0.0.0", False),
        ("::1", False),
        ("::", False),
        ("fe80::1", False),
        ("fec0::1", False),
        ("fd12:3456::1", False),
        ("ff02::1", False),
        ("::ffff:10.0.0.1", False),
        ("2002:a9fe:a9fe::", False),
        ("64:ff9b::7f00:1", False),
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", False),
    ],
)
def test_is_public_address(address: str, public: bool) -> None:
    assert is_public_address(ipaddress.ip_address(address)) is public


def test_checked_addresses_are_the_ones_to_connect_to(loopback_only: FakeDns) -> None:
    loopback_only["videos.example"] = ["93.184.215.14", "93.184.215.15"]
    addresses = checked_addresses("videos.example", 443, allow_private=False)
    assert addresses == [ipaddress.ip_address("93.184.215.14"), ipaddress.ip_address("93.184.215.15")]
    loopback_only["videos.example"] = ["93.184.215.14", "127.0.0.1"]
    with pytest.raises(UnsafeUrl, match=r"127\.0\.0\.1"):
        checked_addresses("videos.example", 443, allow_private=False)
    assert checked_addresses("videos.example", 443, allowed_hosts={"videos.example"})[1].is_loopback


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://93.184.215.14/clip.mp4", "http://93.184.215.14/clip.mp4"),
        ("http://192.168.1.1/admin/reboot.cgi", None),
        ("http://169.254.169.254/latest/", None),
        ("http://router.lan/reboot.cgi", None),  # resolves privately
        ("http://nowhere.example/a.mp4", None),  # does not resolve
        ("javascript:alert(1)", None),
        (None, None),
        ("", None),
    ],
)
def test_safe_for_viewers(url: str | None, expected: str | None, loopback_only: FakeDns) -> None:
    loopback_only["router.lan"] = ["192.168.1.1"]
    assert safe_for_viewers(url, allow_private=False) == expected
