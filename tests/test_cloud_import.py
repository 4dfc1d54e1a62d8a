"""Cloud imports end to end: a link's photos listed, downloaded and recorded by the real importer (face engine,
SQLite, the job system), from local servers answering as Yandex.Disk's and VK's documented APIs do
(tests/support/cloud_servers.py; docs named there). Also the command line and the Library page.
No test touches the internet (`loopback_only`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from core.accounts.users import register
from core.cloud import http
from core.cloud.importer import start_cloud_import
from core.config import get_settings
from core.jobs import queue
from core.jobs.records import JobInfo
from core.jobs.runner import run_now
from core.storage.database import session_scope
from core.storage.studio_models import Job, Photo
from core.studio import cli, importer, jobs, library
from core.studio.owners import resolve_owner
from tests.support.app_driver import button, open_app, texts, widget
from tests.support.cloud_servers import CloudServer, VkAlbum, YandexFile, cloud_server, point_at
from tests.support.media_server import FakeDns
from tests.support.paths import FACES_DIR

PASSWORD = "a long enough password"
LINK = "https://disk.yandex.ru/d/Summer2026Trip"
VK_LINK = "https://vk.com/album1_264"
KIT = FACES_DIR / "people/kit_harington/kit_harington_1.jpg"
ROSE = FACES_DIR / "people/rose_leslie/rose_leslie_1.jpg"
GROUP = FACES_DIR / "groups/kit_with_rose.jpg"
LARGE = FACES_DIR / "people/alex_lacamoire/alex_lacamoire_2.jpg"  # 0.74 MB


@pytest.fixture
def server(site: Path, loopback_only: FakeDns, monkeypatch: pytest.MonkeyPatch) -> Iterator[CloudServer]:
    with cloud_server() as state:
        point_at(state, monkeypatch)
        monkeypatch.setattr(http, "RETRY_PAUSE_S", 0.1)
        yield state


def _owner(email: str = "ann@example.com") -> int:
    return register("Ann", email, PASSWORD, PASSWORD).id


def _finished(owner_id: int, job_id: int, timeout_s: float = 240) -> JobInfo:
    deadline = time.monotonic() + timeout_s
    while not (info := queue.job_info(owner_id, job_id)).finished:
        assert time.monotonic() < deadline, f"the import did not finish: {info}"
        time.sleep(0.2)
    return info


def _job_row(job_id: int) -> dict:
    with session_scope() as session:
        job = session.get_one(Job, job_id)
        return {"params": job.params, "error": job.error, "result": job.result, "stage": job.stage}


def _source_ids(owner_id: int) -> dict[str, str | None]:
    with session_scope() as session:
        rows = session.execute(select(Photo.original_name, Photo.source_id).where(Photo.owner_id == owner_id))
        return dict(rows.all())


def _no_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Jobs stay queued until the test runs them (`run_now`), so their queued state can be read."""
    monkeypatch.setenv("WEBTUBE_JOB_THREADS", "0")
    get_settings.cache_clear()


def test_a_yandex_folder_becomes_an_album_in_the_background_and_importing_it_again_skips_every_photo(
        server: CloudServer) -> None:
    server.publish_folder(LINK, {"kit.jpg": YandexFile("kit.jpg", KIT.read_bytes()),
                                 "Day 2": {"rose.jpg": YandexFile("rose.jpg", ROSE.read_bytes()),
                                           "group.jpg": YandexFile("group.jpg", GROUP.read_bytes())}})
    owner = _owner()

    first = _finished(owner, start_cloud_import(owner, LINK, "Summer"))

    assert (first.kind, first.status, first.done, first.total, first.failures) == ("cloud_import", "done", 3, 3, 0)
    assert first.faces_found >= 4  # kit, rose and the two in the group photo
    [album] = library.list_albums(owner)
    assert (album.name, album.source, album.source_ref, album.photo_count) == ("Summer", "cloud", LINK, 3)
    assert {p.origin for p in library.list_photos(owner, album.id).items} == {
        f"{LINK} › kit.jpg", f"{LINK} › Day 2/rose.jpg", f"{LINK} › Day 2/group.jpg"}
    assert all(value and value.startswith("yadisk:") for value in _source_ids(owner).values())
    assert len(server.downloads()) == 3

    again = _finished(owner, start_cloud_import(owner, LINK, "Summer"))

    assert (again.status, again.done, again.total, again.faces_found) == ("done", 3, 3, 0)
    assert {item.status for item in jobs.job_items(owner, again.id)} == {"duplicate"}
    assert len(server.downloads()) == 3  # skipped by provider id: nothing fetched again
    assert library.list_albums(owner)[0].photo_count == 3


def test_a_photo_already_in_the_library_by_its_bytes_is_not_downloaded(server: CloudServer) -> None:
    owner = _owner()
    importer.import_paths(owner, [KIT], "From the camera", "upload")
    server.publish_folder(LINK, {"kit_copy.jpg": YandexFile("kit_copy.jpg", KIT.read_bytes()),
                                 "rose.jpg": YandexFile("rose.jpg", ROSE.read_bytes())})

    info = _finished(owner, start_cloud_import(owner, LINK))

    assert (info.status, info.done, info.failures) == ("done", 2, 0)
    statuses = {item.original_name: item.status for item in jobs.job_items(owner, info.id)}
    assert statuses == {"kit_copy.jpg": "duplicate", "rose.jpg": "processed"}
    assert [hit.path.split("_", 1)[1] for hit in server.downloads()] == ["rose.jpg"]  # the SHA-256 said so
    assert _source_ids(owner)["kit_harington_1.jpg"].startswith("yadisk:")  # skipped by id from now on
    albums = {album.name: album.photo_count for album in library.list_albums(owner)}
    assert albums == {"From the camera": 1, "Yandex.Disk Summer2026Trip": 2}  # the duplicate joined the album


def test_cut_downloads_are_retried_and_refused_ones_are_one_sentence_each(
        server: CloudServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBTUBE_MAX_UPLOAD_MB", "1")
    get_settings.cache_clear()
    large = LARGE.read_bytes() + bytes(400_000)  # a real photo padded over the 1 MB cap
    server.publish_folder(LINK, {"kit.jpg": YandexFile("kit.jpg", KIT.read_bytes()),
                                 "said_large.jpg": YandexFile("said_large.jpg", large),
                                 "said_small.jpg": YandexFile("said_small.jpg", large, reported_size=900),
                                 "trap.jpg": YandexFile("trap.jpg", ROSE.read_bytes())})
    server.route(LINK, "/kit.jpg").cuts = 1  # the connection drops halfway once; the second try gets it all
    # the trap redirects to this very server by its private address: refused, so kit.jpg is not fetched a third time
    server.route(LINK, "/trap.jpg").redirect = server.download_url(LINK, "/kit.jpg").replace("localhost", "127.0.0.1")
    owner = _owner()

    info = _finished(owner, start_cloud_import(owner, LINK, "Refusals"))

    assert (info.status, info.done, info.failures) == ("done", 4, 3)
    lines = {item.original_name: (item.status, item.message) for item in jobs.job_items(owner, info.id)}
    assert lines["kit.jpg"][0] == "processed"
    assert lines["said_large.jpg"] == ("failed", "The photo is 1.1 MB; photos can be at most 1 MB.")
    assert lines["said_small.jpg"] == ("failed", "The photo is larger than the 1 MB limit, so it was not downloaded.")
    assert lines["trap.jpg"] == ("failed", "Yandex.Disk sent WebTube to a private or local network address for the "
                                           "photo, so WebTube did not fetch it.")
    downloads = [hit.path.split("_", 1)[1] for hit in server.downloads()]
    assert sorted(downloads) == ["kit.jpg", "kit.jpg", "said_small.jpg", "trap.jpg"]  # never said_large.jpg
    assert library.list_albums(owner)[0].photo_count == 1


def test_a_vk_album_keeps_its_token_sealed_only_while_the_job_lives(
        server: CloudServer, monkeypatch: pytest.MonkeyPatch) -> None:
    _no_threads(monkeypatch)
    server.add_vk_album(VkAlbum(1, 264, "Friends", [KIT.read_bytes(), ROSE.read_bytes()]))
    owner = _owner()

    job_id = start_cloud_import(owner, VK_LINK, token=server.vk_token)

    queued = _job_row(job_id)
    assert server.vk_token not in json.dumps(queued)  # sealed, never in plain text
    assert "token" in json.loads(queued["params"]) and "token" not in queue.job_info(owner, job_id).params
    assert run_now(job_id) == "done"
    row = _job_row(job_id)
    assert "token" not in json.loads(row["params"]) and server.vk_token not in json.dumps(row)
    [album] = library.list_albums(owner)
    assert (album.name, album.source, album.source_ref, album.photo_count) == ("VK album 1_264", "cloud",
                                                                                 VK_LINK, 2)
    assert sorted(_source_ids(owner).values()) == ["vk:1_456239000", "vk:1_456239001"]
    assert len(server.downloads()) == 2  # the largest size of each photo only

    again = start_cloud_import(owner, VK_LINK, token=server.vk_token)
    assert run_now(again) == "done"
    assert {item.status for item in jobs.job_items(owner, again)} == {"duplicate"} and len(server.downloads()) == 2


def test_a_private_vk_album_fails_with_one_sentence_and_drops_the_token(
        server: CloudServer, monkeypatch: pytest.MonkeyPatch) -> None:
    _no_threads(monkeypatch)
    server.add_vk_album(VkAlbum(1, 264, "Closed", [KIT.read_bytes()], error=15))
    owner = _owner()
    failed = start_cloud_import(owner, VK_LINK, "Closed", token=server.vk_token)
    cancelled = start_cloud_import(owner, VK_LINK, "Closed", token=server.vk_token)

    assert run_now(failed) == "failed"
    queue.cancel_job(owner, cancelled)  # still queued: it never runs, and its token goes at once

    assert queue.job_info(owner, failed).error == "This VK album is private: the token's account may not see it."
    for job_id in (failed, cancelled):
        assert "token" not in json.loads(_job_row(job_id)["params"])
    queue.retry_job(owner, failed)  # a retry has no token left: it says so instead of trying without one
    assert run_now(failed) == "failed"
    assert queue.job_info(owner, failed).error.startswith("The VK access token is no longer kept")
    assert not server.downloads()


def test_the_command_line_imports_a_link_and_says_what_is_wrong_in_one_line(
        server: CloudServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _no_threads(monkeypatch)
    server.publish_folder(LINK, {"kit.jpg": YandexFile("kit.jpg", KIT.read_bytes())})
    server.add_vk_album(VkAlbum(1, 264, "Friends", [ROSE.read_bytes()]))

    assert cli.main(["import", LINK, "--album", "From the shell"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert {k: summary[k] for k in ("album", "photos", "failures", "duplicates")} == {
        "album": "From the shell", "photos": 1, "failures": 0, "duplicates": 0}
    assert summary["faces"] == 1

    assert cli.main(["import", VK_LINK]) == 2
    assert capsys.readouterr().err == ("error: A VK album needs an access token with the photos permission; "
                                       "give one with the link.\n")
    monkeypatch.setenv("WEBTUBE_VK_TOKEN", server.vk_token)
    assert cli.main(["import", VK_LINK]) == 0
    assert json.loads(capsys.readouterr().out)["album"] == "VK album 1_264"
    assert cli.main(["import", "https://disk.yandex.ru/d/Unpublished"]) == 2
    assert capsys.readouterr().err == ("error: Yandex.Disk has nothing public at this link; it may have been "
                                       "unpublished or mistyped.\n")
    assert [album.name for album in library.list_albums(resolve_owner(None))] == ["VK album 1_264", "From the shell"]


def test_the_library_page_starts_a_cloud_import_and_follows_it(server: CloudServer) -> None:
    server.publish_folder(LINK, {"kit.jpg": YandexFile("kit.jpg", KIT.read_bytes()),
                                 "rose.jpg": YandexFile("rose.jpg", ROSE.read_bytes())})
    owner = _owner()
    at = open_app(owner, "pages/studio_library.py")

    widget(at, "text_input", "Link").input(VK_LINK)
    button(at, "Import from link").click()
    at.run()
    assert texts(at, "error") == ["A VK album needs an access token with the photos permission; give one with the "
                                  "link."]
    widget(at, "text_input", "Link").input(LINK)
    widget(at, "text_input", "Album name (optional)").input("Pasted")
    button(at, "Import from link").click()
    at.run()

    assert not at.exception and not texts(at, "error")
    job_id = at.session_state["studio_job"]
    assert _finished(owner, job_id).status == "done"
    at.run()
    assert texts(at, "success")[0].startswith("Import finished: 2 of 2 photos · 2 faces"), texts(at, "success")
    [album] = library.list_albums(owner)
    assert (album.name, album.source, album.photo_count) == ("Pasted", "cloud", 2)
