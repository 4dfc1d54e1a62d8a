"""The VK adapter against a local server answering as the VK API is documented to.

Docs of the shapes served (tests/support/cloud_servers.py): https://dev.vk.com/en/method/photos.get,
https://dev.vk.com/en/method/photos.getAlbums, https://dev.vk.com/en/reference/errors (errors come with
HTTP 200; 6 is "too many requests per second") and https://dev.vk.com/en/api/api-requests (about 3 calls a
second per token; POST accepted). Tested against documented answers, not the live service (`loopback_only`).
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest

from core.cloud import links, token_box, vk
from core.cloud.errors import CloudError
from core.cloud.vk import VkAlbums, VkRef
from core.config import get_settings
from tests.support.cloud_servers import VK_API, CloudServer, VkAlbum, cloud_server, point_at, vk_rate_limited
from tests.support.media_server import FakeDns

PHOTOS_GET = f"{VK_API}/photos.get"


@pytest.fixture
def server(data_dir: Path, loopback_only: FakeDns, monkeypatch: pytest.MonkeyPatch) -> Iterator[CloudServer]:
    with cloud_server() as state:
        point_at(state, monkeypatch)
        monkeypatch.setattr(vk, "PAGE", 2)  # several pages from a few photos
        monkeypatch.setattr(vk, "RATE_LIMIT_PAUSE_S", 0.2)
        yield state


def _album(server: CloudServer, owner: int = 1, album: int = 264, count: int = 5, **kwargs: object) -> VkAlbum:
    made = VkAlbum(owner, album, f"Album {album}", [f"photo {owner} {album} {n}".encode() for n in range(count)],
                   **kwargs)
    server.add_vk_album(made)
    return made


def _source(server: CloudServer, link: str, token: str | None = None) -> VkAlbums:
    source = links.open_link(link, token or server.vk_token)
    assert isinstance(source, VkAlbums)
    return source


def test_album_links_are_recognised_and_need_a_token() -> None:
    assert vk.parse("https://vk.com/album-5_264?z=1") == VkRef("https://vk.com/album-5_264", -5, "264")
    assert vk.parse("https://m.vk.com/album7_0") == VkRef("https://vk.com/album7_0", 7, "profile")
    assert vk.parse("https://vk.com/album7_00").album_id == "wall"
    assert vk.parse("https://vk.com/albums-5") == VkRef("https://vk.com/albums-5", -5, None)
    assert vk.parse("https://vk.com/durov") is None
    assert vk.parse("https://example.com/album1_2") is None
    with pytest.raises(CloudError) as caught:
        links.open_link("https://vk.com/album1_264")
    assert caught.value.reason == "bad_token"
    assert str(caught.value) == "A VK album needs an access token with the photos permission; give one with the link."


def test_an_album_is_read_page_by_page_at_each_photos_largest_size(server: CloudServer) -> None:
    _album(server)

    items = list(_source(server, "https://vk.com/album1_264").list_items())

    assert [item.source_id for item in items] == [f"vk:1_{456239000 + n}" for n in range(5)]
    assert [item.url for item in items] == [server.file_url(f"vk_1_264_{n}_big.jpg") for n in range(5)]  # 1280x960
    assert items[0].origin == "https://vk.com/photo1_456239000" and items[0].size is None
    calls = server.api_hits(PHOTOS_GET)
    assert [(hit.form["offset"], hit.form["count"]) for hit in calls] == [("0", "2"), ("2", "2"), ("4", "2")]
    assert all(hit.method == "POST" and hit.form["photo_sizes"] == "1" and hit.form["v"] == "5.199"
               and hit.form["owner_id"] == "1" and hit.form["album_id"] == "264" for hit in calls)
    # the token travels in the POST body only, never in a URL (so no log of a URL can hold it)
    assert all(hit.form["access_token"] == server.vk_token and not hit.query for hit in calls)


def test_old_photos_without_pixel_sizes_are_taken_at_their_largest_size_type(server: CloudServer) -> None:
    _album(server, count=1, zero_sizes=True)
    [item] = _source(server, "https://vk.com/album1_264").list_items()
    assert item.url == server.file_url("vk_1_264_0_big.jpg")  # type "w", VK's largest, though listed 0x0


def test_every_album_of_an_owner_is_listed_through_photos_get_albums(server: CloudServer) -> None:
    _album(server, owner=-5, album=11, count=1)
    _album(server, owner=-5, album=12, count=2)

    items = list(_source(server, "https://vk.com/albums-5").list_items())

    assert [item.url.rsplit("/", 1)[1] for item in items] == ["vk_-5_11_0_big.jpg", "vk_-5_12_0_big.jpg",
                                                                "vk_-5_12_1_big.jpg"]
    asked = [(hit.path.rsplit("/", 1)[1], hit.form.get("album_id")) for hit in server.api_hits(VK_API)]
    assert asked == [("photos.getAlbums", None), ("photos.get", "11"), ("photos.get", "12")]


def test_too_many_requests_is_waited_out_and_calls_are_spaced_to_three_a_second(server: CloudServer) -> None:
    _album(server, count=6)
    server.script(PHOTOS_GET, vk_rate_limited())  # error 6 once, then the real answers

    items = list(_source(server, "https://vk.com/album1_264").list_items())

    assert len(items) == 6
    calls = server.api_hits(PHOTOS_GET)
    assert [hit.form["offset"] for hit in calls] == ["0", "0", "2", "4"]  # the refused page asked again
    gaps = [later.at - earlier.at for earlier, later in pairwise(calls)]
    assert min(gaps) >= 1 / 3, gaps  # they arrive no faster than VK's 3 calls a second per token


@pytest.mark.parametrize(("setup", "link", "reason", "sentence"), [
    ({"token": "wrong"}, "https://vk.com/album1_264", "bad_token",
     "VK did not accept the access token (it may be mistyped or expired); get a new one and try again."),
    ({"error": 15}, "https://vk.com/album1_264", "private",
     "This VK album is private: the token's account may not see it."),
    ({}, "https://vk.com/album1_999", "private", "This VK album is private: the token's account may not see it."),
    ({}, "https://vk.com/album404_1", "not_found", "VK has no album at this link; check the link."),
    ({"rate_limited": 4}, "https://vk.com/album1_264", "rate_limited",
     "VK is limiting requests for this token right now; try again in a few minutes."),
])
def test_documented_errors_are_one_sentence_each(server: CloudServer, setup: dict, link: str, reason: str,
                                                 sentence: str) -> None:
    _album(server, count=1, error=setup.get("error"))
    server.script(PHOTOS_GET, *[vk_rate_limited()] * setup.get("rate_limited", 0))
    token = setup.get("token", server.vk_token)

    with pytest.raises(CloudError) as caught:
        list(_source(server, link, token).list_items())

    assert (caught.value.reason, str(caught.value)) == (reason, sentence)
    assert token not in repr(_source(server, link, token))


def test_a_sealed_token_opens_only_with_this_installations_secret(data_dir: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    sealed = token_box.seal("vk1.a.secret")
    assert "vk1.a.secret" not in sealed and token_box.unseal(sealed) == "vk1.a.secret"
    monkeypatch.setenv("WEBTUBE_DATA_DIR", str(tmp_path / "another-site"))  # another data dir: another secret
    get_settings.cache_clear()
    with pytest.raises(CloudError) as caught:
        token_box.unseal(sealed)
    assert caught.value.reason == "bad_token"
    assert str(caught.value) == "The saved access token can no longer be read; start the import again with the token."
