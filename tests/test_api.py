"""The HTTP API against a real `python -m core api` (uvicorn) on loopback, with httpx: every endpoint, the
keys and their scopes, owner isolation, bad input of every kind, the rate limit and a burst of 100.

One server for the module (its start loads nothing heavy; the models load on the first face request):
Ann's library is filled through the API itself (an album, an upload job, a person made from photos),
and Ben, another account, must never see any of it.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from core.accounts.api_keys import create_key, list_keys, revoke_key
from core.accounts.users import register
from tests.support.api_server import ApiServer, run_api_server
from tests.support.cloud_servers import VK_API, YANDEX_API, CloudServer, YandexFile, cloud_server
from tests.support.face_app import settings_for
from tests.support.video_clips import build_clip

PASSWORD = "a long enough password"
RATE_PER_MINUTE = 400  # the server's setting: above what one key's share of this module asks, below the rate test's
MAX_BODY_MB = 8
MAX_UPLOAD_MB = 2
PROBLEM = "application/problem+json"


@dataclass(frozen=True)
class Api:
    server: ApiServer
    cloud: CloudServer  # answers as Yandex.Disk's and VK's documented APIs do (tests/support/cloud_servers.py)
    ann: str  # read and write
    ann_reader: str  # read only
    ann_burst: str  # the burst's own key, so its 100 requests leave the others' buckets alone
    ben: str
    revoked: str
    ann_id: int
    album_id: int
    import_job: int
    person_id: int

    def client(self, key: str | None, **headers: str) -> httpx.Client:
        sent = {"X-API-Key": key} if key else {}
        return httpx.Client(base_url=f"{self.server.url}/api/v1", headers=sent | headers, timeout=180)


def _photo(faces_dir: Path, name: str) -> tuple[str, bytes, str]:
    path = next(faces_dir.glob(f"people/*/{name}.jpg"))
    return path.name, path.read_bytes(), "image/jpeg"


def wait_done(client: httpx.Client, job_id: int, seconds: float = 240) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status = client.get(f"/jobs/{job_id}").json()
        if status["status"] in ("done", "failed", "cancelled"):
            return status
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} did not finish: {status}")


def assert_problem(response: httpx.Response, status: int, words: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status and body["title"] and words.lower() in body["detail"].lower(), body
    assert "Traceback" not in response.text and 'File "' not in response.text
    return body


def _settings(cloud: CloudServer) -> dict[str, str]:
    """The server's caps made small enough to test, and the cloud providers' APIs at the local server (only its
    name, localhost, exempt from the private-address rule)."""
    return {"WEBTUBE_API_RATE_PER_MINUTE": str(RATE_PER_MINUTE), "WEBTUBE_API_MAX_BODY_MB": str(MAX_BODY_MB),
            "WEBTUBE_MAX_UPLOAD_MB": str(MAX_UPLOAD_MB), "WEBTUBE_YANDEX_DISK_API": cloud.base_url + YANDEX_API,
            "WEBTUBE_VK_API": cloud.base_url + VK_API, "WEBTUBE_CLOUD_ALLOWED_HOSTS": "localhost",
            "WEBTUBE_ALLOW_PRIVATE_URLS": "false"}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, faces_dir: Path) -> Iterator[Api]:
    data_dir = tmp_path_factory.mktemp("api")
    with settings_for(data_dir):
        ann = register("Ann", "ann@example.com", PASSWORD, PASSWORD)
        ben = register("Ben", "ben@example.com", PASSWORD, PASSWORD)
        keys = {name: create_key(owner, name, scopes)[0] for name, owner, scopes in (
            ("ann", ann.id, "read write"), ("ann_reader", ann.id, "read"), ("ann_burst", ann.id, "read write"),
            ("ben", ben.id, "read write"), ("revoked", ann.id, "read write"))}
        revoke_key(ann.id, next(k.id for k in list_keys(ann.id) if k.name == "revoked"))
    with cloud_server() as cloud, run_api_server(data_dir, _settings(cloud)) as server:
        with httpx.Client(base_url=f"{server.url}/api/v1", headers={"X-API-Key": keys["ann"]}, timeout=180) as ann_api:
            album = ann_api.post("/albums", json={"name": "Holiday"})
            assert album.status_code == 201, album.text
            album_id = album.json()["id"]
            upload = ann_api.post(f"/albums/{album_id}/photos", files=[
                ("files", _photo(faces_dir, name)) for name in ("obama_1", "obama_2", "biden_1", "kit_harington_1")])
            assert upload.status_code == 202, upload.text
            job_id = upload.json()["job_id"]
            assert wait_done(ann_api, job_id)["status"] == "done"
            person = ann_api.post("/people", data={"name": "Barack Obama"},
                                  files=[("photos", _photo(faces_dir, "obama_4"))])
            assert person.status_code == 201, person.text
        yield Api(server, cloud, keys["ann"], keys["ann_reader"], keys["ann_burst"], keys["ben"], keys["revoked"],
                  ann.id, album_id, job_id, person.json()["id"])
        assert "Traceback" not in server.log(), server.log()[-3000:]


# --- keys and scopes ---------------------------------------------------------------------------------------------


def test_a_request_without_a_key_or_with_a_wrong_or_revoked_one_is_refused(api: Api) -> None:
    for key in (None, "wt_not-a-key-anyone-made", api.revoked):
        with api.client(key) as client:
            body = assert_problem(client.get("/people"), 401, "API key")
            assert body["instance"] == "/api/v1/people"
    with api.client(None) as client:
        assert "Bearer" in client.get("/albums").headers["www-authenticate"]


def test_the_key_works_as_a_bearer_token_too(api: Api) -> None:
    with api.client(None, Authorization=f"Bearer {api.ann}") as client:
        assert "Holiday" in [a["name"] for a in client.get("/albums").json()]


def test_a_read_only_key_reads_but_may_not_write(api: Api, faces_dir: Path) -> None:
    with api.client(api.ann_reader) as client:
        assert client.get(f"/people/{api.person_id}").json()["name"] == "Barack Obama"
        assert_problem(client.post("/albums", json={"name": "Not mine to make"}), 403, "only read")
        assert_problem(client.delete(f"/people/{api.person_id}"), 403, "only read")
    with api.client(api.ann) as client:
        assert "Not mine to make" not in [a["name"] for a in client.get("/albums").json()]


def test_revoking_a_key_stops_it_at_once(api: Api) -> None:
    with settings_for(api.server.folder):
        token, made = create_key(api.ann_id, "short lived", "read")
        assert made.prefix == token[:10] and token not in json.dumps([k.prefix for k in list_keys(api.ann_id)])
        with api.client(token) as client:
            assert client.get("/albums").status_code == 200
            revoke_key(api.ann_id, made.id)
            assert_problem(client.get("/albums"), 401, "revoked")


# --- faces -------------------------------------------------------------------------------------------------------


def test_detect_gives_boxes_landmarks_and_quality(api: Api, faces_dir: Path) -> None:
    with api.client(api.ann_reader) as client:
        one = client.post("/faces/detect", files={"image": _photo(faces_dir, "obama_1")}).json()["faces"]
        group = (faces_dir / "groups/obama_and_biden.jpg").read_bytes()
        two = client.post("/faces/detect", files={"image": ("group.jpg", group)}).json()["faces"]
    assert len(one) == 1 and len(two) >= 2  # the two in front, and whoever the detector sees behind them
    face = one[0]
    assert len(face["box"]) == 4 and len(face["landmarks"]) == 5 and face["score"] > 0.9 and face["quality"]["ok"]


def test_embed_gives_one_vector_per_face_and_names_the_model(api: Api, faces_dir: Path) -> None:
    with api.client(api.ann_reader) as client:
        answer = client.post("/faces/embed", files={"image": _photo(faces_dir, "biden_2")}).json()
    vector = np.asarray(answer["faces"][0]["embedding"])
    assert answer["embedder"] and len(answer["faces"]) == 1 and vector.shape == (128,) and np.isfinite(vector).all()


def test_verify_tells_the_same_person_from_two_people(api: Api, faces_dir: Path) -> None:
    with api.client(api.ann_reader) as client:
        same = client.post("/faces/verify", files={"first": _photo(faces_dir, "obama_1"),
                                                   "second": _photo(faces_dir, "obama_3")}).json()
        other = client.post("/faces/verify", files={"first": _photo(faces_dir, "obama_1"),
                                                    "second": _photo(faces_dir, "biden_2")}).json()
    assert same["same_person"] is True and same["similarity_percent"] > 50
    assert other["same_person"] is False and other["distance"] > same["distance"]


def test_recognise_names_my_people_only(api: Api, faces_dir: Path) -> None:
    with api.client(api.ann_reader) as client:
        mine = client.post("/faces/recognise", files={"image": _photo(faces_dir, "obama_3")}).json()
    with api.client(api.ben) as client:
        theirs = client.post("/faces/recognise", files={"image": _photo(faces_dir, "obama_3")}).json()
    assert [f["label"] for f in mine["faces"]] == ["Barack Obama"] and mine["faces"][0]["person_id"] == api.person_id
    assert [f["known"] for f in theirs["faces"]] == [False]


# --- search ------------------------------------------------------------------------------------------------------


def test_search_by_sample_finds_the_person_best_first_with_filters(api: Api, faces_dir: Path) -> None:
    sample = {"image": _photo(faces_dir, "obama_3")}
    with api.client(api.ann_reader) as client:
        found = client.post("/search", files=sample, data={"threshold": "70", "top_k": "10"}).json()
        in_album = client.post("/search", files=sample, data={"threshold": "70", "album_id": str(api.album_id)}).json()
        of_person = client.post("/search", files=sample, data={"person_id": str(api.person_id)}).json()
        top_one = client.post("/search", files=sample, data={"threshold": "0", "top_k": "1"}).json()
    names = [m["original_name"] for m in found["matches"]]
    assert set(names) == {"obama_1.jpg", "obama_2.jpg", "obama_4.jpg"}, names
    similarities = [m["similarity_pct"] for m in found["matches"]]
    assert similarities == sorted(similarities, reverse=True) and min(similarities) >= 70
    assert {m["original_name"] for m in in_album["matches"]} == {"obama_1.jpg", "obama_2.jpg"}
    assert [m["original_name"] for m in of_person["matches"]] == ["obama_4.jpg"]
    assert len(top_one["matches"]) == 1 and found["threshold_pct"] == 70


def test_search_refuses_a_bad_threshold_and_a_sample_without_a_face(api: Api, faces_dir: Path) -> None:
    blank = io.BytesIO()
    Image.new("RGB", (320, 240), (200, 200, 200)).save(blank, format="JPEG")
    with api.client(api.ann_reader) as client:
        body = assert_problem(client.post("/search", files={"image": _photo(faces_dir, "obama_3")},
                                          data={"threshold": "150"}), 422, "threshold")
        assert body["errors"]
        assert_problem(client.post("/search", files={"image": ("blank.jpg", blank.getvalue())}), 422, "No face")


# --- people ------------------------------------------------------------------------------------------------------


def test_people_are_made_from_photos_renamed_merged_and_deleted(api: Api, faces_dir: Path) -> None:
    with api.client(api.ann) as client:
        joe = client.post("/people", data={"name": "Joe", "notes": "from the API"},
                          files=[("photos", _photo(faces_dir, "biden_2"))])
        assert joe.status_code == 201 and joe.json()["face_count"] == 1 and joe.json()["notes"] == "from the API"
        joe_id = joe.json()["id"]
        kit = client.post("/people", data={"name": "Kit"}, files=[("photos", _photo(faces_dir, "kit_harington_2"))])
        kit_id = kit.json()["id"]
        renamed = client.patch(f"/people/{joe_id}", json={"name": "Joe Biden"})
        assert renamed.status_code == 200 and renamed.json()["name"] == "Joe Biden"
        assert_problem(client.patch(f"/people/{kit_id}", json={"name": "Joe Biden"}), 422, "Joe Biden")
        assert "Joe Biden" in [p["name"] for p in client.get("/people", params={"search": "joe"}).json()]
        merged = client.post(f"/people/{joe_id}/merge", json={"source_ids": [kit_id]}).json()
        assert merged["face_count"] == 2
        assert_problem(client.get(f"/people/{kit_id}"), 404, "no such person")
        assert len(client.get(f"/people/{joe_id}/faces").json()) == 2
        assert client.delete(f"/people/{joe_id}").json() == {"deleted_faces": 2}
        assert_problem(client.get(f"/people/{joe_id}"), 404, "no such person")


def test_a_person_is_made_only_from_photos_with_exactly_one_face(api: Api, faces_dir: Path) -> None:
    group = ("group.jpg", (faces_dir / "groups/obama_and_biden.jpg").read_bytes(), "image/jpeg")
    with api.client(api.ann) as client:
        before = client.get("/people").json()
        assert_problem(client.post("/people", data={"name": "Two"}, files=[("photos", _photo(faces_dir, "biden_1")),
                                                                          ("photos", group)]), 422, "faces were found")
        assert_problem(client.post("/people", data={"name": "Nobody"}, files=[("photos", ("x.pdf", b"%PDF-1.7"))]),
                       415, "PDF")
        assert client.get("/people").json() == before  # nothing half-made


# --- albums, photos, jobs ----------------------------------------------------------------------------------------


def test_an_upload_is_a_job_whose_status_and_result_say_what_it_did(api: Api) -> None:
    with api.client(api.ann_reader) as client:
        status = client.get(f"/jobs/{api.import_job}").json()
        result = client.get(f"/jobs/{api.import_job}/result").json()
        photos = client.get(f"/albums/{api.album_id}/photos").json()
        listed = [job["id"] for job in client.get("/jobs").json()]
    assert status["status"] == "done" and status["done"] == status["total"] == 4 and status["progress"] == 1.0
    assert status["faces_found"] == 4 and "params" not in status and api.import_job in listed
    assert result["result"]["photos"] == 4 and result["result"]["faces"] == 4
    assert photos["total"] == 4 and {p["original_name"] for p in photos["items"]} >= {"obama_1.jpg", "biden_1.jpg"}
    with api.client(api.ann_reader) as client:
        detail = client.get(f"/photos/{photos['items'][0]['id']}").json()
    assert len(detail["faces"]) == 1 and len(detail["faces"][0]["box"]) == 4


def test_a_zip_upload_imports_every_photo_in_it_and_a_photo_can_be_deleted(api: Api, faces_dir: Path) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        for name in ("rose_leslie_1", "alex_lacamoire_2"):
            zipped.writestr(f"trip/{name}.jpg", _photo(faces_dir, name)[1])
    with api.client(api.ann) as client:
        album = client.post("/albums", json={"name": "Zipped"}).json()
        job = client.post(f"/albums/{album['id']}/photos", files={"files": ("trip.zip", archive.getvalue())}).json()
        assert wait_done(client, job["job_id"])["done"] == 2
        photos = client.get(f"/albums/{album['id']}/photos").json()["items"]
        assert len(photos) == 2
        assert client.delete(f"/photos/{photos[0]['id']}").status_code == 200
        assert_problem(client.get(f"/photos/{photos[0]['id']}"), 404, "no such photo")
        assert client.delete(f"/albums/{album['id']}", params={"with_photos": "true"}).status_code == 200
        assert "Zipped" not in [a["name"] for a in client.get("/albums").json()]


def test_a_running_job_has_no_result_yet_and_can_be_cancelled(api: Api, faces_dir: Path) -> None:
    with api.client(api.ann) as client:
        album = client.post("/albums", json={"name": "Cancelled"}).json()
        many = [("files", (f"copy_{i}.jpg", _photo(faces_dir, "obama_3")[1] + bytes([i]))) for i in range(12)]
        job_id = client.post(f"/albums/{album['id']}/photos", files=many).json()["job_id"]
        early = client.get(f"/jobs/{job_id}/result")
        cancelled = client.post(f"/jobs/{job_id}/cancel").json()
        final = wait_done(client, job_id)
    if early.status_code != 200:  # it may, rarely, have finished already on a fast machine
        assert_problem(early, 409, "ask again")
        assert early.headers["retry-after"]
    assert cancelled["status"] in ("cancelled", "running", "done") and final["status"] in ("cancelled", "done")
    assert final["status"] == "done" or final["done"] < 12


def test_a_yandex_disk_folder_is_imported_as_a_job_and_a_link_nobody_knows_is_refused(api: Api,
                                                                                     faces_dir: Path) -> None:
    link = "https://disk.yandex.ru/d/ApiTrip2026"
    rose, kit = _photo(faces_dir, "rose_leslie_2")[1], _photo(faces_dir, "kit_harington_3")[1]
    api.cloud.publish_folder(link, {"rose.jpg": YandexFile("rose.jpg", rose),
                                    "Day 2": {"kit.jpg": YandexFile("kit.jpg", kit)}})
    with api.client(api.ann) as client:
        started = client.post("/albums/import", json={"link": link, "album": "From Yandex"})
        assert started.status_code == 202, started.text
        status = wait_done(client, started.json()["job_id"])
        albums = {a["name"]: a for a in client.get("/albums").json()}
        assert_problem(client.post("/albums/import", json={"link": "https://example.org/photos"}), 422, "link")
        assert_problem(client.post("/albums/import", json={"link": "https://vk.com/album1_264"}), 422, "token")
    assert (status["kind"], status["status"], status["done"], status["failures"]) == ("cloud_import", "done", 2, 0)
    assert albums["From Yandex"]["source"] == "cloud" and albums["From Yandex"]["photo_count"] == 2
    assert len(api.cloud.downloads()) == 2


# --- video analysis and export -----------------------------------------------------------------------------------


def test_a_video_analysis_is_a_job_and_its_result_names_the_people_in_it(api: Api, faces_dir: Path,
                                                                          tmp_path: Path) -> None:
    clip = build_clip(tmp_path / "clip.mp4", [(2.0, (faces_dir / "people/obama/obama_3.jpg",))], fps=5)
    with api.client(api.ann) as client:
        started = client.post("/videos/analyses", files={"video": ("clip.mp4", clip.read_bytes(), "video/mp4")},
                              data={"fps": "2"})
        assert started.status_code == 202, started.text
        job_id = started.json()["job_id"]
        assert wait_done(client, job_id)["status"] == "done"
        result = client.get(f"/videos/analyses/{job_id}").json()
        assert_problem(client.post("/videos/analyses", files={"video": ("notes.mp4", b"not a video at all")}),
                       415, "not a video")
        assert_problem(client.post("/videos/analyses", data={"fps": "2"}), 422, "Choose one video")
    assert [p["name"] for p in result["people"]] == ["Barack Obama"] and result["frames"]
    with api.client(api.ben) as client:
        assert_problem(client.get(f"/videos/analyses/{job_id}"), 404, "")


def test_the_export_is_my_faces_as_csv_json_or_a_zip_with_the_vectors(api: Api) -> None:
    with api.client(api.ann_reader) as client:
        table = client.get("/export", params={"format": "csv"})
        rows = client.get("/export", params={"format": "json"}).json()
        bundle = client.get("/export", params={"format": "json", "embeddings": "true"})
        assert_problem(client.get("/export", params={"format": "xml"}), 422, "format")
    assert table.headers["content-type"].startswith("text/csv") and table.text.startswith("face_id,")
    assert "Barack Obama" in {row["person"] for row in rows}
    names = zipfile.ZipFile(io.BytesIO(bundle.content)).namelist()
    assert bundle.headers["content-type"] == "application/zip" and len(names) == 2
    with api.client(api.ben) as client:
        assert client.get("/export", params={"format": "json"}).json() == []


# --- isolation, bad input, limits --------------------------------------------------------------------------------


def test_another_account_never_sees_or_changes_my_library(api: Api, faces_dir: Path) -> None:
    with api.client(api.ben) as client:
        assert client.get("/albums").json() == [] and client.get("/people").json() == []
        assert client.get("/jobs").json() == []
        assert_problem(client.get(f"/people/{api.person_id}"), 404, "no such person")
        assert_problem(client.patch(f"/people/{api.person_id}", json={"name": "Taken over"}), 404, "no such person")
        assert_problem(client.delete(f"/people/{api.person_id}"), 404, "no such person")
        assert_problem(client.get(f"/albums/{api.album_id}/photos"), 404, "no such album")
        stranger_upload = {"files": _photo(faces_dir, "obama_5_small")}
        assert_problem(client.post(f"/albums/{api.album_id}/photos", files=stranger_upload), 404, "no such album")
        assert_problem(client.get(f"/jobs/{api.import_job}"), 404, "no such job")
        assert_problem(client.post(f"/jobs/{api.import_job}/cancel"), 404, "no such job")
        assert_problem(client.post("/search", files={"image": _photo(faces_dir, "obama_3")},
                                   data={"album_id": str(api.album_id)}), 404, "no such album")
        assert client.post("/search", files={"image": _photo(faces_dir, "obama_3")},
                           data={"threshold": "0"}).json()["matches"] == []
    with api.client(api.ann_reader) as client:
        assert client.get(f"/people/{api.person_id}").json()["name"] == "Barack Obama"


def test_bad_images_get_the_status_and_sentence_they_deserve(api: Api, faces_dir: Path) -> None:
    jpeg = _photo(faces_dir, "obama_1")[1]
    noise = np.random.default_rng(7).integers(0, 255, (1400, 1400, 3), dtype=np.uint8)
    big = io.BytesIO()
    Image.fromarray(noise).save(big, format="PNG")  # about 5.6 MB: over the per-file cap, under the body cap
    assert MAX_UPLOAD_MB * 2**20 < len(big.getvalue()) < MAX_BODY_MB * 2**20
    with api.client(api.ann_reader) as client:
        assert_problem(client.post("/faces/detect", files={"image": ("half.jpg", jpeg[: len(jpeg) // 3])}), 422, "")
        assert_problem(client.post("/faces/detect", files={"image": ("doc.pdf", b"%PDF-1.4 not a face")}), 415, "PDF")
        assert_problem(client.post("/faces/detect", files={"image": ("empty.jpg", b"")}), 422, "")
        assert_problem(client.post("/faces/detect", files={"image": ("big.png", big.getvalue())}), 413, "MB")
        assert_problem(client.post("/faces/detect", data={"picture": "none"}), 422, "image")
        assert_problem(client.post("/faces/detect", content=b"{}", headers={"content-type": "application/json"}),
                       422, "image")
        blank = io.BytesIO()
        Image.new("RGB", (200, 200), (0, 0, 0)).save(blank, format="PNG")
        assert_problem(client.post("/faces/verify", files={"first": ("blank.png", blank.getvalue()),
                                                           "second": _photo(faces_dir, "obama_1")}), 422, "No face")


def test_a_request_without_a_valid_key_is_refused_before_its_body_is_read(api: Api) -> None:
    junk = {"content": b"{" * (4 * 2**20), "headers": {"content-type": "application/json"}}
    with api.client(None) as client:
        assert_problem(client.post("/albums", **junk), 401, "needs an API key")
    for key in ("wt_not-a-key-anyone-made", api.revoked):
        with api.client(key) as client:
            assert_problem(client.post("/albums", **junk), 401, "unknown or was revoked")


def test_a_json_body_is_held_to_a_small_cap(api: Api) -> None:
    with api.client(api.ann) as client:
        assert_problem(client.post("/albums", json={"name": "x" * (2 * 2**20)}), 413, "1 MB")
        body = assert_problem(client.post("/albums", content=b"{not json", headers={"content-type":
                                                                                  "application/json"}), 422, "JSON")
    assert body["errors"] == ["the body is not valid JSON"]


def test_a_body_over_the_cap_is_refused_before_it_is_read(api: Api) -> None:
    oversize = b"\0" * (MAX_BODY_MB * 2**20 + 1)
    with api.client(api.ann) as client:
        declared = client.post("/faces/detect", files={"image": ("huge.jpg", oversize)})
        assert_problem(declared, 413, f"{MAX_BODY_MB} MB")

        def chunks() -> Iterator[bytes]:  # no Content-Length: the cap holds while reading
            boundary = b"--x\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.jpg\"\r\n\r\n"
            yield boundary
            for _ in range(MAX_BODY_MB + 2):
                yield b"\0" * 2**20
            yield b"\r\n--x--\r\n"

        streamed = client.post("/faces/detect", content=chunks(),
                               headers={"content-type": "multipart/form-data; boundary=x"})
        assert_problem(streamed, 413, f"{MAX_BODY_MB} MB")


def test_unknown_addresses_and_methods_are_problems_too(api: Api) -> None:
    with api.client(api.ann_reader) as client:
        assert_problem(client.get("/no-such-thing"), 404, "/docs")
        assert_problem(client.put("/albums"), 405, "method")
        assert_problem(client.get("/people/not-a-number"), 422, "person_id")


def test_the_openapi_document_and_docs_page_describe_every_route(api: Api) -> None:
    spec = httpx.get(f"{api.server.url}/openapi.json").json()
    docs = httpx.get(f"{api.server.url}/docs")
    paths = set(spec["paths"])
    assert {"/api/v1/faces/detect", "/api/v1/faces/embed", "/api/v1/faces/verify", "/api/v1/faces/recognise",
            "/api/v1/search", "/api/v1/people", "/api/v1/people/{person_id}/merge", "/api/v1/albums",
            "/api/v1/albums/{album_id}/photos", "/api/v1/albums/import", "/api/v1/jobs/{job_id}",
            "/api/v1/jobs/{job_id}/cancel", "/api/v1/jobs/{job_id}/result", "/api/v1/videos/analyses",
            "/api/v1/videos/analyses/{job_id}", "/api/v1/export"} <= paths
    assert {"APIKeyHeader", "HTTPBearer"} <= set(spec["components"]["securitySchemes"])
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


READING_POSTS = {"/api/v1/faces/detect", "/api/v1/faces/embed", "/api/v1/faces/verify", "/api/v1/faces/recognise",
                 "/api/v1/search"}  # they send images to look at, and change nothing


def _write_routes(server: ApiServer) -> list[tuple[str, str]]:
    """Every route of the OpenAPI document that changes something, with 1 for each id."""
    spec = httpx.get(f"{server.url}/openapi.json").json()
    return [(method.upper(), re.sub(r"\{\w+\}", "1", path.removeprefix("/api/v1")))
            for path, methods in spec["paths"].items() for method in methods
            if method != "get" and path not in READING_POSTS]


def test_every_route_that_changes_something_refuses_a_read_only_key(api: Api) -> None:
    routes = _write_routes(api.server)
    assert len(routes) >= 11  # people (4), albums and photos (5), jobs (1), videos (1)
    with api.client(api.ann_reader) as client:
        for method, path in routes:
            assert_problem(client.request(method, path), 403, "only read")


def test_another_account_cannot_merge_my_people_into_theirs_or_touch_my_photos(api: Api, faces_dir: Path) -> None:
    with api.client(api.ann_reader) as client:
        photo_id = client.get(f"/albums/{api.album_id}/photos").json()["items"][0]["id"]
    with api.client(api.ben) as client:
        theirs = client.post("/people", data={"name": "Ben's"}, files=[("photos", _photo(faces_dir, "biden_2"))]).json()
        assert_problem(client.post(f"/people/{theirs['id']}/merge", json={"source_ids": [api.person_id]}), 404,
                       "no such person")
        assert_problem(client.get(f"/people/{api.person_id}/faces"), 404, "no such person")
        assert_problem(client.get(f"/photos/{photo_id}"), 404, "no such photo")
        assert_problem(client.delete(f"/photos/{photo_id}"), 404, "no such photo")
        assert_problem(client.delete(f"/albums/{api.album_id}"), 404, "no such album")
        assert_problem(client.get(f"/jobs/{api.import_job}/result"), 404, "no such job")
        assert_problem(client.post("/search", files={"image": _photo(faces_dir, "obama_3")},
                                   data={"person_id": str(api.person_id)}), 404, "no such person")
    with api.client(api.ann_reader) as client:
        assert client.get(f"/people/{api.person_id}").json()["face_count"] >= 1
        assert client.get(f"/photos/{photo_id}").status_code == 200


def test_a_key_over_its_rate_gets_429_with_retry_after(api: Api) -> None:
    with settings_for(api.server.folder):
        token, _ = create_key(api.ann_id, "busy program", "read")
    answers: list[httpx.Response] = []
    with api.client(token) as client:
        while len(answers) < 3 * RATE_PER_MINUTE and not any(a.status_code == 429 for a in answers[-1:]):
            answers.append(client.get("/albums"))
    refused = [a for a in answers if a.status_code == 429]
    assert len(answers) > RATE_PER_MINUTE  # the whole burst was allowed first
    assert refused and all(a.status_code in (200, 429) for a in answers)
    body = assert_problem(refused[0], 429, "too many requests")
    assert int(refused[0].headers["retry-after"]) >= 1 and body["detail"]
    with api.client(api.ann_reader) as client:  # another key's bucket is its own
        assert client.get("/albums").status_code == 200


def test_a_burst_of_100_concurrent_requests_loses_nothing(api: Api) -> None:
    async def burst() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=100)
        async with httpx.AsyncClient(base_url=f"{api.server.url}/api/v1", headers={"X-API-Key": api.ann_burst},
                                     timeout=180, limits=limits) as client:
            writes = [client.post("/albums", json={"name": f"Burst {i:03d}"}) for i in range(50)]
            reads = [client.get("/albums") for _ in range(50)]
            return await asyncio.gather(*writes, *reads)

    answers = asyncio.run(burst())
    assert [a.status_code for a in answers] == [201] * 50 + [200] * 50, {a.status_code: a.text for a in answers}
    with api.client(api.ann_reader) as client:
        names = [a["name"] for a in client.get("/albums").json()]
    assert sorted(n for n in names if n.startswith("Burst")) == [f"Burst {i:03d}" for i in range(50)]
