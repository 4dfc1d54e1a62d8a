"""The studio pages through Streamlit's AppTest, on the real core (SQLite, face engine, background import).

Each test walks what a person does: import an album (uploads and a zip), see faces boxed and the No
faces view, search by a sample, group, name and correct faces, manage people, export; and a second
account sees none of it.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from core.accounts.users import UserInfo, register
from core.config import get_settings
from core.jobs import queue
from core.studio import clustering, importer, library, people
from core.studio.records import ImportSummary
from tests.support.app_driver import button, go, open_app, texts, widget

PASSWORD = "a long enough password"
KIT = ["people/kit_harington/kit_harington_1.jpg", "people/kit_harington/kit_harington_2.jpg"]
ROSE = ["people/rose_leslie/rose_leslie_1.jpg", "people/rose_leslie/rose_leslie_2.jpg"]
GROUP = "groups/kit_with_rose.jpg"


def _account(name: str = "Ann", email: str = "ann@example.com") -> UserInfo:
    return register(name, email, PASSWORD, PASSWORD)


def no_face_photo() -> bytes:
    """A real JPEG of a sky-like gradient: an image the engine reads and finds no face in."""
    image = Image.linear_gradient("L").resize((640, 480)).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def _import(owner: UserInfo, faces_dir: Path, names: list[str], album: str = "Trip") -> ImportSummary:
    return importer.import_paths(owner.id, [faces_dir / name for name in names], album, "upload")


def _wait_for_job(owner: UserInfo, at: AppTest, timeout_s: float = 240) -> None:
    job_id = at.session_state["studio_job"]
    deadline = time.monotonic() + timeout_s
    while queue.job_info(owner.id, job_id).status not in ("done", "cancelled", "failed"):
        assert time.monotonic() < deadline, f"the import did not finish: {queue.job_info(owner.id, job_id)}"
        time.sleep(0.5)
    at.run()


def plain(markdown: str) -> str:
    """What a person reads in a Markdown label: escapes and invisible word joiners removed."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")


def captions(at: AppTest) -> list[str]:
    return [plain(text) for text in texts(at, "caption")]


def _all_text(at: AppTest) -> str:
    kinds = ("markdown", "caption", "success", "info", "warning", "error", "subheader", "title")
    return "\n".join(str(value) for kind in kinds for value in texts(at, kind))


def test_visitors_are_sent_to_sign_in_from_every_studio_page(site: Path) -> None:
    _account()
    at = open_app()
    for page, title in [
        ("people", "People"),
        ("library", "Library"),
        ("search", "Search"),
        ("recognise", "Recognise"),
        ("live", "Live"),
        ("clusters", "Clusters"),
        ("videos", "Videos"),
        ("export", "Export"),
        ("jobs", "History"),
    ]:
        go(at, f"pages/studio_{page}.py")
        assert texts(at, "title") == ["Sign in"]
        assert texts(at, "info")[0] == f"Please sign in to open “{title}”."


def test_import_uploads_and_a_zip_in_the_background_with_a_report(site: Path, faces_dir: Path) -> None:
    owner = _account()
    at = open_app(owner.id, "pages/studio_library.py")
    assert texts(at, "title") == ["Library"]
    archive = _zip(
        {
            "album/rose.jpg": (faces_dir / ROSE[0]).read_bytes(),
            "album/notes.txt": b"not a photo",
            "../escape.jpg": (faces_dir / ROSE[1]).read_bytes(),
            "inner.zip": _zip({"x.jpg": (faces_dir / KIT[1]).read_bytes()}),
        }
    )
    uploads = [
        ("kit.jpg", (faces_dir / KIT[0]).read_bytes(), "image/jpeg"),
        ("group.jpg", (faces_dir / GROUP).read_bytes(), "image/jpeg"),
        ("sky.jpg", no_face_photo(), "image/jpeg"),
        ("broken.png", b"\x89PNG\r\n\x1a\n not really", "image/png"),
        ("album.zip", archive, "application/zip"),
    ]
    widget(at, "file_uploader", "Photos or a zip of photos (JPG, PNG, WEBP or ZIP)").set_value(uploads)
    widget(at, "text_input", "Album name").input("Summer")
    button(at, "Import").click()
    at.run()
    assert not at.exception
    assert not texts(at, "error"), texts(at, "error")
    [progress] = at.get("progress")  # the face engine takes longer than one run of the page
    assert re.fullmatch(r"\d+ of \d+ photos · \d+ faces?.*", plain(progress.proto.text)), progress.proto.text
    _wait_for_job(owner, at)
    assert not at.exception
    report = texts(at, "success")
    assert report and report[0].startswith("Import finished:"), report
    failed = at.table[0].value
    assert "broken.png" in set(failed["file"]), failed
    assert {"notes.txt", "escape.jpg", "inner.zip"} & {Path(name).name for name in failed["file"]}, failed
    # the grid: every processed photo with its faces boxed (kit, group, rose), captions name the face counts
    shown = captions(at)
    assert "kit.jpg · 1 face" in shown and "group.jpg · 2 faces" in shown and "rose.jpg · 1 face" in shown, shown
    assert len(library.list_albums(owner.id)) == 1
    # the No faces view lists the gradient with the reason
    at.segmented_control(key="lib-view").set_value("No faces")
    at.run()
    assert any(c.startswith("sky.jpg · ") for c in captions(at)), captions(at)


def test_cancel_an_import_in_progress(site: Path, faces_dir: Path) -> None:
    owner = _account()
    at = open_app(owner.id, "pages/studio_library.py")
    names = [*KIT, *ROSE, GROUP, "people/obama/obama_3.jpg", "people/biden/biden_1.jpg"]
    uploads = [(Path(name).name, (faces_dir / name).read_bytes(), "image/jpeg") for name in names]
    widget(at, "file_uploader", "Photos or a zip of photos (JPG, PNG, WEBP or ZIP)").set_value(uploads)
    button(at, "Import").click()
    at.run()
    button(at, "Cancel import").click()
    at.run()
    _wait_for_job(owner, at)
    [report] = texts(at, "warning")
    assert report.startswith("Import cancelled: "), report
    info = queue.job_info(owner.id, at.session_state["studio_job"])
    assert info.status == "cancelled" and info.done < len(names), info
    assert library.list_photos(owner.id).total + library.list_photos(owner.id, status="no_faces").total == info.done


def test_a_zip_bomb_is_one_sentence_and_leaves_nothing_behind(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBTUBE_ZIP_MAX_MB", "1")
    get_settings.cache_clear()
    owner = _account()
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.jpg", b"\0" * (8 * 2**20))  # 8 MB of zeros, a few kB packed
    at = open_app(owner.id, "pages/studio_library.py")
    widget(at, "file_uploader", "Photos or a zip of photos (JPG, PNG, WEBP or ZIP)").upload(
        "bomb.zip", bomb.getvalue(), "application/zip"
    )
    button(at, "Import").click()
    at.run()
    [error] = texts(at, "error")
    assert error.startswith("bomb.zip unpacks to 8 MB; a zip may unpack to at most 1 MB"), error
    assert queue.recent_jobs(owner.id) == []
    leftovers = [p for p in (site / "studio").rglob("*") if p.is_file()]
    assert leftovers == [], leftovers


def test_admins_import_a_server_folder_only_under_an_allowed_root(
    site: Path, faces_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBTUBE_STUDIO_IMPORT_ROOTS", str(faces_dir / "people"))
    get_settings.cache_clear()
    admin = _account()  # the first account is the admin
    member = _account("Bob", "bob@example.com")
    at = open_app(member.id, "pages/studio_library.py")
    assert not [w for w in at.get("text_input") if w.label == "Folder on the server"]
    at = open_app(admin.id, "pages/studio_library.py")
    widget(at, "text_input", "Folder on the server").input(str(faces_dir / "groups"))
    button(at, "Import folder").click()
    at.run()
    [error] = texts(at, "error")
    assert error.startswith(f"{faces_dir / 'groups'} is not under an allowed import folder"), error
    widget(at, "text_input", "Folder on the server").input(str(faces_dir / "people" / "rose_leslie"))
    button(at, "Import folder").click()
    at.run()
    assert not texts(at, "error"), texts(at, "error")
    _wait_for_job(admin, at)
    assert texts(at, "success")[0].startswith("Import finished: 2 of 2 photos · 2 faces")
    [album] = library.list_albums(admin.id)
    assert (album.name, album.source, album.photo_count) == ("rose_leslie", "folder", 2)


def test_an_empty_import_is_one_sentence_and_starts_nothing(site: Path) -> None:
    owner = _account()
    at = open_app(owner.id, "pages/studio_library.py")
    button(at, "Import").click()
    at.run()
    assert texts(at, "error") == ["Choose at least one photo or zip to import."]
    assert queue.recent_jobs(owner.id) == []


def test_open_a_photo_see_its_faces_and_delete_it(site: Path, faces_dir: Path) -> None:
    owner = _account()
    _import(owner, faces_dir, [GROUP])
    at = open_app(owner.id, "pages/studio_library.py")
    button(at, "Open").click()
    at.run()
    assert plain(texts(at, "subheader")[-1]) == "kit_with_rose.jpg"
    assert len(at.get("image")) >= 1 + 2  # the photo boxed, and its two faces
    at.checkbox(key=f"photo-{library.list_photos(owner.id).items[0].id}-sure").check()
    at.run()
    button(at, "Delete photo").click()
    at.run()
    assert texts(at, "success") == ["The photo and its faces are deleted."]
    assert library.list_photos(owner.id).total == 0


def test_search_by_sample_with_the_slider_and_filters(site: Path, faces_dir: Path) -> None:
    owner = _account()
    _import(owner, faces_dir, [*KIT, *ROSE, GROUP])
    at = open_app(owner.id, "pages/studio_search.py")
    widget(at, "file_uploader", "Sample photo (JPG, PNG or WEBP)").upload(
        "me.jpg", (faces_dir / "people/kit_harington/kit_harington_3.jpg").read_bytes(), "image/jpeg"
    )
    at.run()
    assert not at.exception
    slider = widget(at, "slider", "Match threshold (%)")
    assert 70 <= slider.value <= 95
    assert any("stranger" in c for c in captions(at)), captions(at)
    button(at, "Search").click()
    at.run()
    assert not at.exception
    heading = texts(at, "subheader")[0]
    assert heading.endswith(("match", "matches")), heading
    results = [c for c in captions(at) if " %** · " in c]
    similarities = [float(c.split(" %")[0].strip("*")) for c in results]
    assert similarities and similarities == sorted(similarities, reverse=True), results
    assert all(70 <= s <= 100 for s in similarities)
    names = " ".join(results)
    assert "kit_harington_1" in names and "rose_leslie" not in names, names
    assert [d.label for d in at.get("download_button")] == ["Download these results (CSV)"]
    # a near-certain threshold keeps fewer or the same matches
    slider.set_value(95)
    at.run()
    button(at, "Search").click()
    at.run()
    strict = [c for c in captions(at) if " %** · " in c]
    assert len(strict) <= len(similarities)


def test_take_a_sample_with_the_camera_and_choose_among_several_faces(site: Path, faces_dir: Path) -> None:
    owner = _account()
    _import(owner, faces_dir, [*ROSE])
    at = open_app(owner.id, "pages/studio_search.py")
    at.camera_input[0].upload("shot.jpg", (faces_dir / GROUP).read_bytes(), "image/jpeg")
    at.run()
    choice = widget(at, "radio", "Search for")
    assert len(choice.options) == 2
    for option in choice.options:  # whichever face is Rose's finds her photos
        choice.set_value(int(option.split()[-1]) - 1)
        at.run()
        button(at, "Search").click()
        at.run()
        if any("rose_leslie" in c for c in captions(at)):
            break
    else:
        pytest.fail(f"neither face of the group found Rose: {texts(at, 'caption')}")


def test_photos_where_two_people_appear_together(site: Path, faces_dir: Path) -> None:
    owner = _account()
    _import(owner, faces_dir, [KIT[0], ROSE[0], GROUP, "people/obama/obama_2.jpg"])
    faces = {p.original_name: library.photo_detail(owner.id, p.id).faces for p in library.list_photos(owner.id).items}
    kit, rose = people.create_person(owner.id, "Kit"), people.create_person(owner.id, "Rose")
    rose_left, kit_right = sorted(faces["kit_with_rose.jpg"], key=lambda face: face.box[0])
    for face, person in [
        (faces["kit_harington_1.jpg"][0], kit),
        (faces["rose_leslie_1.jpg"][0], rose),
        (rose_left, rose),
        (kit_right, kit),
    ]:
        people.assign_face(owner.id, face.id, person.id)
    at = open_app(owner.id, "pages/studio_search.py")
    widget(at, "multiselect", "People").set_value([kit.id, rose.id])
    at.run()
    assert not at.exception
    assert "1 photo" in captions(at)
    assert [c for c in captions(at) if c.endswith(" faces")] == ["kit_with_rose.jpg · 2 faces"]
    # the search's filters: faces named Rose only, in the album that holds them
    widget(at, "file_uploader", "Sample photo (JPG, PNG or WEBP)").upload(
        "rose.jpg", (faces_dir / ROSE[1]).read_bytes(), "image/jpeg"
    )
    at.run()
    widget(at, "selectbox", "Named as").set_value(rose.id)
    widget(at, "selectbox", "In album").set_value(library.list_albums(owner.id)[0].id)
    button(at, "Search").click()
    at.run()
    found = sorted(c.split(" · ")[1] for c in captions(at) if " %** · " in c)
    assert found == ["kit_with_rose.jpg", "rose_leslie_1.jpg"], captions(at)


def test_group_name_correct_merge_and_manage_people(site: Path, faces_dir: Path) -> None:
    owner = _account()
    _import(owner, faces_dir, [*KIT, "people/kit_harington/kit_harington_3.jpg", *ROSE, GROUP])
    at = open_app(owner.id, "pages/studio_clusters.py")
    button(at, "Find groups").click()
    at.run()
    assert not at.exception
    assert texts(at, "success")[0].endswith(" s)."), texts(at, "success")
    run = clustering.current_clusters(owner.id)
    assert len(run.clusters) >= 2, run
    biggest = max(run.clusters, key=lambda c: c.size)
    at.text_input(key=f"name-{biggest.cluster_id}-text").input("Kit")
    at.button(key=f"FormSubmitter:name-{biggest.cluster_id}-Name group").click()
    at.run()
    assert texts(at, "success") == ["The group is now “Kit”."]
    kit = next(p for p in people.list_people(owner.id) if p.name == "Kit")
    assert kit.face_count == biggest.size
    # People: open Kit, take one face out ("not this person"), rename with notes
    go(at, "pages/studio_people.py")
    button(at, "Open").click()
    at.run()
    wrong = people.person_faces(owner.id, kit.id)[0]
    at.checkbox(key=f"person-{kit.id}-faces-pick-{wrong.id}").check()
    at.run()
    button(at, "Not this person").click()
    at.run()
    assert texts(at, "success")[0].startswith("1 face removed from Kit")
    assert wrong.id not in {f.id for f in people.person_faces(owner.id, kit.id)}
    assert wrong.id not in {f.id for f in people.suggestions(owner.id) if f.suggested_person_id == kit.id}
    button(at, "Open").click()
    at.run()
    widget(at, "text_input", "Name").input("Kit Harington")
    widget(at, "text_area", "Notes").input("Actor")
    button(at, "Save").click()
    at.run()
    assert texts(at, "success") == ["Saved “Kit Harington”."]
    # a second person, then merge the two from the People page
    other = people.create_person(owner.id, "Kit again")
    at.run()
    assert {p.name for p in people.list_people(owner.id)} == {"Kit Harington", "Kit again"}
    widget(at, "multiselect", "Merge these people").set_value([other.id])
    widget(at, "selectbox", "into").set_value(kit.id)
    button(at, "Merge").click()
    at.run()
    assert texts(at, "success")[0].startswith("Merged into Kit Harington")
    assert [p.name for p in people.list_people(owner.id)] == ["Kit Harington"]
    # delete after the confirmation
    button(at, "Open").click()
    at.run()
    assert button(at, "Delete person").disabled
    at.checkbox(key=f"person-{kit.id}-sure").check()
    at.run()
    button(at, "Delete person").click()
    at.run()
    assert texts(at, "success") == ["Kit Harington is deleted."]
    assert people.list_people(owner.id) == []


def test_new_photos_of_a_named_person_are_suggestions_to_confirm(site: Path, faces_dir: Path) -> None:
    owner = _account()
    _import(owner, faces_dir, KIT)
    kit = people.create_person(owner.id, "Kit")
    for photo in library.list_photos(owner.id).items:
        people.assign_face(owner.id, library.photo_detail(owner.id, photo.id).faces[0].id, kit.id)
    _import(owner, faces_dir, ["people/kit_harington/kit_harington_3.jpg", "people/obama/obama_2.jpg"], "Later")
    [suggested] = people.suggestions(owner.id)  # Kit's new photo, not Obama's
    at = open_app(owner.id, "pages/studio_clusters.py")
    assert texts(at, "subheader") == ["Suggestions to confirm (1)"]
    assert "Kit?" in captions(at)
    at.button(key=f"confirm-{suggested.id}").click()
    at.run()
    assert texts(at, "success") == ["Confirmed as Kit."]
    assert suggested.id in {face.id for face in people.person_faces(owner.id, kit.id)}
    assert people.suggestions(owner.id) == []


def test_merge_and_split_groups_on_the_clusters_page(site: Path, faces_dir: Path) -> None:
    owner = _account()
    _import(owner, faces_dir, [*KIT, "people/kit_harington/kit_harington_3.jpg", *ROSE, GROUP])
    clustering.cluster_faces(owner.id)
    at = open_app(owner.id, "pages/studio_clusters.py")
    run = clustering.current_clusters(owner.id)
    assert len(run.clusters) >= 2
    first, second = run.clusters[:2]
    widget(at, "multiselect", "Merge these groups").set_value([first.cluster_id, second.cluster_id])
    button(at, "Merge groups").click()
    at.run()
    assert texts(at, "success")[0].startswith("Merged into group")
    merged = clustering.current_clusters(owner.id)
    assert len(merged.clusters) == len(run.clusters) - 1
    big = max(merged.clusters, key=lambda c: c.size)
    moved = [face.id for face in big.faces[:1]]
    at.checkbox(key=f"cluster-{big.cluster_id}-pick-{moved[0]}").check()
    at.run()
    at.button(key=f"cluster-{big.cluster_id}-split").click()
    at.run()
    assert texts(at, "success")[0].startswith("The ticked faces are now group")
    after = clustering.current_clusters(owner.id)
    assert len(after.clusters) == len(merged.clusters) + 1


def test_export_csv_and_json_with_embeddings(site: Path, faces_dir: Path) -> None:
    owner = _account()
    _import(owner, faces_dir, [KIT[0], GROUP])
    at = open_app(owner.id, "pages/studio_export.py")
    button(at, "Prepare the export").click()
    at.run()
    assert not at.exception
    [download] = at.get("download_button")
    assert download.label.startswith("Download ") and download.label.endswith(".csv")
    path = at.session_state["studio_export_files"][0]
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    assert len(rows) == 3  # kit's face and the two of the group
    widget(at, "radio", "Format").set_value("json")
    widget(at, "checkbox", "Include the embeddings (a separate file, one vector per face)").check()
    button(at, "Prepare the export").click()
    at.run()
    labels = [d.label for d in at.get("download_button")]
    assert len(labels) == 2 and labels[0].endswith(".json"), labels
    main = at.session_state["studio_export_files"][0]
    assert len(json.loads(main.read_text())) in (3, 1)  # a list of faces, or an object holding them


def test_a_second_account_sees_none_of_it(site: Path, faces_dir: Path) -> None:
    owner = _account()
    _import(owner, faces_dir, [*KIT, GROUP])
    clustering.cluster_faces(owner.id)
    run = clustering.current_clusters(owner.id)
    if run.clusters:
        people.name_cluster(owner.id, run.clusters[0].cluster_id, name="Kit")
    other = _account("Bob", "bob@example.com")
    at = open_app(other.id, "pages/studio_library.py")
    assert "No photos with faces yet" in _all_text(at)
    assert not at.get("image")
    go(at, "pages/studio_people.py")
    assert "Nobody is named yet" in _all_text(at)
    go(at, "pages/studio_clusters.py")
    assert "No groups yet" in _all_text(at)
    go(at, "pages/studio_search.py")
    assert texts(at, "info") == ["Your library has no faces yet: import photos first."]
    widget(at, "file_uploader", "Sample photo (JPG, PNG or WEBP)").upload(
        "kit.jpg", (faces_dir / KIT[0]).read_bytes(), "image/jpeg"
    )
    at.run()
    widget(at, "slider", "Match threshold (%)").set_value(70)
    button(at, "Search").click()
    at.run()
    assert texts(at, "info")[-1] == "No face in your library is that close. Lower the threshold to see looser matches."
    go(at, "pages/studio_export.py")
    button(at, "Prepare the export").click()
    at.run()
    path = at.session_state["studio_export_files"][0]
    assert "kit" not in path.read_text().lower()
