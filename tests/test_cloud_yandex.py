"""The Yandex.Disk adapter against a local server answering as the public REST API is documented to.

Docs of the shapes served (tests/support/cloud_servers.py): https://yandex.com/dev/disk-api/doc/en/reference/public
and https://yandex.com/dev/disk-api/doc/en/reference/response-objects (Resource, ResourceList, Error). Tested
against documented answers, not the live service: no test touches the internet (`loopback_only`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.cloud import links, yandex_disk
from core.cloud.errors import CloudError
from core.cloud.yandex_disk import YandexDiskFolder
from core.config import get_settings
from tests.support.cloud_servers import (
    YANDEX_API,
    Canned,
    CloudServer,
    YandexFile,
    cloud_server,
    point_at,
    yandex_rate_limited,
)
from tests.support.media_server import FakeDns

LINK = "https://disk.yandex.ru/d/Ab12Cd34Ef56"
RESOURCES = f"{YANDEX_API}/public/resources"


@pytest.fixture
def server(data_dir: Path, loopback_only: FakeDns, monkeypatch: pytest.MonkeyPatch) -> Iterator[CloudServer]:
    with cloud_server() as state:
        point_at(state, monkeypatch)
        monkeypatch.setattr(yandex_disk, "PAGE", 2)  # several pages from a few files
        yield state


def _tree() -> dict:
    return {"a.jpg": YandexFile("a.jpg", b"photo a"), "b.png": YandexFile("b.png", b"photo b", mime_type="image/png"),
            "notes.txt": YandexFile("notes.txt", b"not a photo", mime_type="text/plain"),
            "Trip": {"c.jpg": YandexFile("c.jpg", b"photo c"), "Day 2": {"d.jpg": YandexFile("d.jpg", b"photo d")}},
            "e.jpg": YandexFile("e.jpg", b"photo e")}


def test_links_are_recognised_in_their_public_shapes() -> None:
    assert yandex_disk.parse("https://disk.yandex.ru/d/Ab12Cd34Ef56?w=1#x") == LINK
    assert yandex_disk.parse("https://yadi.sk/d/Ab12Cd34Ef56") == "https://yadi.sk/d/Ab12Cd34Ef56"
    assert yandex_disk.parse("https://disk.yandex.com/i/Zz9") == "https://disk.yandex.com/i/Zz9"
    assert yandex_disk.parse("https://disk.yandex.ru/client/disk") is None
    assert yandex_disk.parse("https://example.com/d/Ab12") is None
    assert isinstance(links.open_link(LINK), YandexDiskFolder)  # public links need no token
    with pytest.raises(CloudError, match=r"^Paste a Yandex.Disk public link"):
        links.open_link("https://example.com/photos")


def test_a_folder_is_walked_page_by_page_into_its_sub_folders(server: CloudServer) -> None:
    server.publish_folder(LINK, _tree())

    items = list(YandexDiskFolder(LINK).list_items())

    assert [item.name for item in items] == ["a.jpg", "b.png", "e.jpg", "c.jpg", "d.jpg"]  # no text file
    assert [item.origin for item in items][3:] == [f"{LINK} › Trip/c.jpg", f"{LINK} › Trip/Day 2/d.jpg"]
    assert items[0].sha256 == hashlib.sha256(b"photo a").hexdigest() and items[0].size == len(b"photo a")
    assert all(item.source_id.startswith("yadisk:4242:") for item in items)
    assert len({item.source_id for item in items}) == 5
    assert [item.source_id for item in YandexDiskFolder(LINK).list_items()] == [i.source_id for i in items]
    asked = [(hit.query.get("path", "/"), hit.query["offset"], hit.query["limit"]) for hit in server.hits
             if hit.path == RESOURCES]
    # each listing: the root's 5 entries in 3 pages, then each sub-folder (one page each), nothing more
    first = [("/", "0", "2"), ("/", "2", "2"), ("/", "4", "2"), ("/Trip", "0", "2"), ("/Trip/Day 2", "0", "2")]
    assert asked == first + first
    assert all(hit.query["public_key"] == LINK for hit in server.hits if hit.path == RESOURCES)


def test_the_items_download_links_are_the_documented_file_field(server: CloudServer) -> None:
    server.publish_folder(LINK, {"a.jpg": YandexFile("a.jpg", b"photo a")})
    [item] = YandexDiskFolder(LINK).list_items()
    assert item.url.startswith(server.base_url + "/files/")


def test_a_public_file_link_is_one_photo(server: CloudServer) -> None:
    server.publish_file(LINK, YandexFile("portrait.jpg", b"one photo"))
    [item] = YandexDiskFolder(LINK).list_items()
    assert (item.name, item.size, item.origin) == ("portrait.jpg", 9, LINK)


def test_a_rate_limited_answer_is_waited_out_then_listed(server: CloudServer) -> None:
    server.publish_folder(LINK, {"a.jpg": YandexFile("a.jpg", b"photo a")})
    server.script(RESOURCES, yandex_rate_limited())

    assert [item.name for item in YandexDiskFolder(LINK).list_items()] == ["a.jpg"]
    assert len(server.api_hits(RESOURCES)) == 2


@pytest.mark.parametrize(("answers", "reason", "sentence"), [
    ([], "not_found", "Yandex.Disk has nothing public at this link; it may have been unpublished or mistyped."),
    ([Canned(403, {"error": "DiskResourceDownloadLimitExceededError", "description": "d", "message": "m"})],
     "private", "Yandex.Disk refused to share the files of this link (its owner may have turned downloads off)."),
    ([yandex_rate_limited()] * 3, "rate_limited",
     "Yandex.Disk is limiting requests right now; try again in a few minutes."),
    ([Canned(503, {"error": "DiskServiceUnavailableError", "description": "d", "message": "m"})],
     "failed", "Yandex.Disk could not list this link (HTTP 503); try again later."),
])
def test_documented_errors_are_one_sentence_each(server: CloudServer, answers: list[Canned], reason: str,
                                                 sentence: str) -> None:
    if answers:
        server.publish_folder(LINK, {"a.jpg": YandexFile("a.jpg", b"photo a")})
        server.script(RESOURCES, *answers)
    with pytest.raises(CloudError) as caught:
        list(YandexDiskFolder(LINK).list_items())
    assert (caught.value.reason, str(caught.value)) == (reason, sentence)


def test_a_redirect_from_the_api_to_a_private_address_is_refused_before_it_is_followed(server: CloudServer) -> None:
    server.publish_folder(LINK, {"a.jpg": YandexFile("a.jpg", b"photo a")})
    private = server.base_url.replace("localhost", "127.0.0.1") + RESOURCES + "?public_key=x"
    server.script(RESOURCES, Canned(302, {}, {"Location": private}))

    with pytest.raises(CloudError) as caught:
        list(YandexDiskFolder(LINK).list_items())

    assert caught.value.reason == "refused"
    assert str(caught.value) == ("Yandex.Disk sent WebTube to a private or local network address for the album, "
                                 "so WebTube did not fetch it.")
    assert len(server.api_hits(RESOURCES)) == 1  # the same server by its address: never asked


def test_a_listing_larger_than_the_cap_is_refused(server: CloudServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBTUBE_CLOUD_MAX_PHOTOS", "3")
    get_settings.cache_clear()
    server.publish_folder(LINK, _tree())
    with pytest.raises(CloudError, match=r"^This link holds more than 3 files and folders"):
        list(YandexDiskFolder(LINK).list_items())
