"""core.videos.downloader against the local media server: real yt-dlp, real HTTP, nothing beyond loopback.

Every test runs under `loopback_only`: names resolve only through the test's FakeDns and
connections go only to 127.0.0.1, so a guard that failed would show up as a wrong error here,
never as a request to the internet or to 169.254.169.254.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yt_dlp

from core.videos.downloader import DownloadError, ProbeError, VideoInfo, download, probe
from tests.support.media_server import CLIP_TITLE, PRIVATE_TARGET, FakeDns, MediaServer, Route

pytestmark = pytest.mark.usefixtures("loopback_only")

VIDEO_ID = "dQw4w9WgXcQ"
LOCAL = {"allow_private": False, "allowed_hosts": {"127.0.0.1"}}

SPLIT_STREAMS_MPD = b"""<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT10S"
     minBufferTime="PT2S" profiles="urn:mpeg:dash:profile:isoff-on-demand:2011">
  <Period>
    <AdaptationSet mimeType="video/mp4" contentType="video">
      <Representation id="video" codecs="avc1.64001f" bandwidth="500000" width="640" height="360">
        <BaseURL>video-only.mp4</BaseURL>
      </Representation>
    </AdaptationSet>
    <AdaptationSet mimeType="audio/mp4" contentType="audio">
      <Representation id="audio" codecs="mp4a.40.2" bandwidth="128000">
        <BaseURL>audio-only.mp4</BaseURL>
      </Representation>
    </AdaptationSet>
  </Period>
</MPD>
"""


def _page(body: str) -> Route:
    html = f"<!doctype html><html><head><title>Test page</title></head><body>{body}</body></html>"
    return Route(body=html.encode(), content_type="text/html; charset=utf-8")


class Recorder:
    """A progress callback that remembers what it was told."""

    def __init__(self) -> None:
        self.calls: list[tuple[float | None, str]] = []

    def __call__(self, fraction: float | None, message: str) -> None:
        self.calls.append((fraction, message))

    @property
    def fractions(self) -> list[float]:
        return [fraction for fraction, _ in self.calls if fraction is not None]


def _tree(folder: Path) -> list[Path]:
    """What the cache holds, less its lock files (bookkeeping, empty, kept on purpose)."""
    return sorted(path for path in folder.rglob("*") if path.suffix != ".lock")


def test_probe_a_direct_media_file(data_dir: Path, media_server: MediaServer) -> None:
    url = media_server.url("clip.mp4")
    info = probe(url)
    assert info == VideoInfo(
        original_url=url,
        canonical_url=url,
        site="Generic",
        title="clip",
        thumbnail_url=None,
        duration_s=None,  # a bare file states no duration, and yt-dlp runs no ffprobe here
        uploader=None,
        embed_url=None,
        media_url=url,
    )


def test_probe_a_video_page(data_dir: Path, media_server: MediaServer) -> None:
    info = probe(media_server.url("watch.html"))
    assert info.title == CLIP_TITLE
    assert info.site == "HTML5MediaEmbed"
    assert info.canonical_url == media_server.url("watch.html")
    assert info.thumbnail_url == media_server.url("poster.jpg")
    assert info.media_url == media_server.url("clip.mp4")
    assert info.embed_url is None


@pytest.mark.parametrize("path", ["clip.mp4", "watch.html"])
def test_download_saves_the_served_bytes_with_progress(
    path: str, data_dir: Path, media_server: MediaServer, media_clip: bytes
) -> None:
    progress = Recorder()
    saved = download(media_server.url(path), data_dir / "cache", 10 * len(media_clip), progress)
    assert saved.read_bytes() == media_clip
    assert saved.suffix == ".mp4"
    assert saved.name.isascii() and " " not in saved.name
    assert saved.parent.parent == data_dir / "cache"
    assert _tree(data_dir / "cache") == [saved.parent, saved]
    fractions = progress.fractions
    assert len(fractions) > 2
    assert fractions == sorted(fractions)
    assert fractions[0] < 0.5
    assert fractions[-1] == 1.0
    assert progress.calls[-1] == (1.0, f"Downloaded {saved.name}")


def test_a_page_download_is_named_after_its_title(data_dir: Path, media_server: MediaServer) -> None:
    saved = download(media_server.url("watch.html"), data_dir / "cache", 10_000_000)
    assert saved.name == "Hamilton_test_clip.mp4"


def test_a_second_download_is_served_from_the_cache(
    data_dir: Path, media_server: MediaServer, media_clip: bytes
) -> None:
    url = media_server.url("clip.mp4")
    first = download(url, data_dir / "cache", 10_000_000)
    requests_before = len(media_server.hits())
    progress = Recorder()
    again = download(f"  {url.upper().replace('/CLIP.MP4', '/clip.mp4')}  ", data_dir / "cache", 10_000_000, progress)
    assert again == first
    assert again.read_bytes() == media_clip
    assert len(media_server.hits()) == requests_before
    assert progress.calls == [(1.0, f"Already downloaded: {first.name}")]


def test_size_cap_aborts_mid_download_and_leaves_nothing(data_dir: Path, media_server: MediaServer) -> None:
    cache = data_dir / "cache"
    progress = Recorder()
    with pytest.raises(DownloadError) as caught:
        download(media_server.url("clip.mp4"), cache, 100_000, progress)
    assert caught.value.reason == "too_large"
    assert "0.1 MB" in caught.value.message
    assert _tree(cache) == []
    assert all(fraction < 1.0 for fraction in progress.fractions)


def test_size_cap_refuses_up_front_when_the_site_states_the_size(
    data_dir: Path, media_server: MediaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_extract = yt_dlp.YoutubeDL.extract_info

    def extract_with_size(self: yt_dlp.YoutubeDL, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return {**real_extract(self, *args, **kwargs), "filesize": 2_000_000_000}

    monkeypatch.setattr(yt_dlp.YoutubeDL, "extract_info", extract_with_size)
    clip_requests = len(media_server.hits("clip.mp4"))
    with pytest.raises(DownloadError) as caught:
        download(media_server.url("watch.html"), data_dir / "cache", 1_000_000)
    assert caught.value.reason == "too_large"
    assert "2000.0 MB" in caught.value.message
    assert len(media_server.hits("clip.mp4")) == clip_requests
    assert _tree(data_dir / "cache") == []


def test_a_crash_mid_download_leaves_nothing_that_looks_cached(
    data_dir: Path, media_server: MediaServer, media_clip: bytes
) -> None:
    def crash(fraction: float | None, message: str) -> None:
        if fraction and fraction > 0.5:
            raise KeyboardInterrupt

    url, cache = media_server.url("clip.mp4"), data_dir / "cache"
    with pytest.raises(KeyboardInterrupt):
        download(url, cache, 10_000_000, crash)
    assert _tree(cache) == []
    requests_before = len(media_server.hits("clip.mp4"))
    assert download(url, cache, 10_000_000).read_bytes() == media_clip
    assert len(media_server.hits("clip.mp4")) > requests_before


def test_split_audio_and_video_streams_are_not_downloaded(data_dir: Path, media_server: MediaServer) -> None:
    media_server.add("split.mpd", Route(body=SPLIT_STREAMS_MPD, content_type="application/dash+xml"))
    info = probe(media_server.url("split.mpd"))
    assert info.media_url is None
    with pytest.raises(DownloadError) as caught:
        download(media_server.url("split.mpd"), data_dir / "cache", 10_000_000)
    assert caught.value.reason == "no_single_file_format"
    assert not media_server.hits("video-only.mp4") and not media_server.hits("audio-only.mp4")
    assert _tree(data_dir / "cache") == []


def test_missing_video_is_unavailable(data_dir: Path, media_server: MediaServer) -> None:
    with pytest.raises(ProbeError) as caught:
        probe(media_server.url("notfound"))
    assert caught.value.reason == "unavailable"
    assert "404" in caught.value.message
    with pytest.raises(ProbeError) as caught:
        download(media_server.url("notfound"), data_dir / "cache", 10_000_000)
    assert caught.value.reason == "unavailable"


def test_refused_access_reads_as_private(data_dir: Path, media_server: MediaServer) -> None:
    media_server.add("members-only.mp4", Route(403, b"forbidden", "text/plain"))
    with pytest.raises(ProbeError) as caught:
        probe(media_server.url("members-only.mp4"))
    assert caught.value.reason == "private"


def test_a_page_without_video_is_unsupported(data_dir: Path, media_server: MediaServer) -> None:
    media_server.add("article.html", _page("<p>Just words, no video.</p>"))
    with pytest.raises(ProbeError) as caught:
        probe(media_server.url("article.html"))
    assert caught.value.reason == "unsupported"


def test_a_private_address_is_refused_before_any_request(media_server: MediaServer) -> None:
    requests_before = len(media_server.hits())
    with pytest.raises(ProbeError) as caught:
        probe(media_server.url("clip.mp4"), allow_private=False)
    assert caught.value.reason == "unsafe"
    with pytest.raises(ProbeError) as caught:
        download(media_server.url("clip.mp4"), Path("/nonexistent/never-created"), 10_000_000, allow_private=False)
    assert caught.value.reason == "unsafe"
    assert len(media_server.hits()) == requests_before
    assert not Path("/nonexistent").exists()


def test_a_redirect_to_a_private_address_is_refused(media_server: MediaServer) -> None:
    """The server is exempted by name, so the refusal can only come from the redirect's target."""
    assert probe(media_server.url("clip.mp4"), **LOCAL).title == "clip"
    with pytest.raises(ProbeError) as caught:
        probe(media_server.url("redirect-to-private"), **LOCAL)
    assert caught.value.reason == "unsafe"
    assert "169.254.169.254" in caught.value.message
    assert media_server.hits("redirect-to-private")


def test_the_setting_alone_also_guards_redirects(
    data_dir: Path, media_server: MediaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBTUBE_ALLOW_PRIVATE_URLS", "false")
    from core.config import get_settings

    get_settings.cache_clear()
    with pytest.raises(ProbeError) as caught:
        probe(media_server.url("redirect-to-private"), allowed_hosts={"127.0.0.1"})
    assert caught.value.reason == "unsafe"


def test_media_on_a_private_address_is_refused_at_download(data_dir: Path, media_server: MediaServer) -> None:
    """The page is public; the <video> inside points at the metadata service: not kept for players, not fetched."""
    media_server.add("sneaky.html", _page(f'<video src="{PRIVATE_TARGET}/clip.mp4"></video>'))
    info = probe(media_server.url("sneaky.html"), **LOCAL)
    assert info.title == "Test page"
    assert info.media_url is None
    with pytest.raises(ProbeError) as caught:
        download(media_server.url("sneaky.html"), data_dir / "cache", 10_000_000, **LOCAL)
    assert caught.value.reason == "unsafe"
    assert _tree(data_dir / "cache") == []


@pytest.mark.parametrize(
    ("url", "reason"),
    [("javascript:alert(1)", "invalid"), ("file:///etc/passwd", "invalid"), ("http://user:pw@example.com/", "unsafe")],
)
def test_hostile_links_are_refused_by_probe_and_download(url: str, reason: str, data_dir: Path) -> None:
    with pytest.raises(ProbeError) as caught:
        probe(url)
    assert caught.value.reason == reason
    with pytest.raises(ProbeError) as caught:
        download(url, data_dir / "cache", 10_000_000)
    assert caught.value.reason == reason


def test_youtube_without_network_is_offline(data_dir: Path) -> None:
    url = f"https://youtu.be/{VIDEO_ID}?t=90"
    with pytest.raises(ProbeError) as caught:
        probe(url)
    assert caught.value.reason == "offline"
    assert "offline" in caught.value.message


def test_youtube_offline_fallback_builds_the_player_from_the_link(data_dir: Path) -> None:
    url = f"https://youtu.be/{VIDEO_ID}?t=90"
    assert probe(url, offline_fallback=True) == VideoInfo(
        original_url=url,
        canonical_url=f"https://www.youtube.com/watch?v={VIDEO_ID}",
        site="Youtube",
        title=None,
        thumbnail_url=f"https://i.ytimg.com/vi/{VIDEO_ID}/hqdefault.jpg",
        duration_s=None,
        uploader=None,
        embed_url=f"https://www.youtube-nocookie.com/embed/{VIDEO_ID}?start=90",
        media_url=None,
    )


def test_offline_fallback_is_for_youtube_only(data_dir: Path) -> None:
    with pytest.raises(ProbeError) as caught:
        probe("https://videos.example/watch/42", offline_fallback=True)
    assert caught.value.reason == "offline"


def test_youtube_through_a_proxy_with_no_internet_is_offline(
    data_dir: Path, media_server: MediaServer, loopback_only: FakeDns
) -> None:
    """DNS answers, but the only way out is a proxy that cannot reach anything: yt-dlp's own failure."""
    loopback_only["www.youtube.com"] = ["142.250.74.46"]
    url = f"https://www.youtube.com/watch?v={VIDEO_ID}"
    with pytest.raises(ProbeError) as caught:
        probe(url, proxy=media_server.proxy_url, allow_private=False)
    assert caught.value.reason == "offline"
    assert any(hit.method == "CONNECT" and hit.path == "www.youtube.com:443" for hit in media_server.hits())
    info = probe(url, offline_fallback=True, proxy=media_server.proxy_url, allow_private=False)
    assert info.embed_url == f"https://www.youtube-nocookie.com/embed/{VIDEO_ID}"


@pytest.mark.parametrize(("info", "size"), [
    ({"filesize": 12_300_000}, 12_300_000), ({"filesize_approx": 4.5e6}, 4_500_000),
    ({"filesize": None, "filesize_approx": None}, None), ({"filesize": -1}, None), ({"filesize": "big"}, None),
])
def test_the_size_a_site_reports_is_kept_for_the_download_button(info: dict[str, Any], size: int | None) -> None:
    from core.videos.downloader import _reported_size

    assert _reported_size(info) == size
