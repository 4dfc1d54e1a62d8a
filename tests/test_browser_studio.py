"""The studio journey in headless Chromium against the real server, with screenshots in artifacts/studio/.

Ann imports an album (several photos and a zip, one of them not a photo, one without a face), sees
every face boxed and the No faces view, searches with a held-out photo of Kit and the threshold
slider, groups the faces, names one group, corrects it ("not this person"), splits and merges
another, exports the CSV; then Bob signs in and sees none of it.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from core.accounts.users import UserInfo, register
from core.studio import clustering, library, people
from tests.support.app_server import ROOT, AppServer, launch_chromium, run_app_server, wait_for_run
from tests.test_app_studio import no_face_photo

pytestmark = pytest.mark.browser
ARTIFACTS = ROOT / "artifacts" / "studio"
PASSWORD = "a long enough password"
WAIT_MS = 30_000
IMPORT_MS = 300_000  # the face engine on a shared 2-core machine
SAMPLE = "people/kit_harington/kit_harington_3.jpg"  # held out of the library: the search sample


@pytest.fixture
def page(site: Path) -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        context = browser.new_context(viewport={"width": 1400, "height": 1600}, accept_downloads=True)
        context.set_default_timeout(WAIT_MS)
        page = context.new_page()
        yield page
        state = page.locator("[data-testid='stApp']").get_attribute("data-test-connection-state")
        _shot(page, f"last-{state}")  # where the journey ended, for a failure's post-mortem
        browser.close()


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    wait_for_run(page)
    page.wait_for_function("() => [...document.images].every(image => image.complete)")
    page.wait_for_timeout(500)  # the last elements settle
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _nav(page: Page, name: str) -> None:
    wait_for_run(page)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", name=name if name != "Search" else "Search by face")).to_be_visible()


def _sign_in(page: Page, server: AppServer, email: str) -> None:
    page.goto(server.url + "/")  # through app.py's navigation, as people arrive
    expect(page.get_by_test_id("stSidebar").get_by_text("Not signed in")).to_be_visible()
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Sign in").click()
    wait_for_run(page)
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Signed in as")).to_be_visible()


def _album(faces_dir: Path, folder: Path) -> list[Path]:
    """Three photos and a sky, plus a zip of two photos, a group photo and a text file."""
    folder.mkdir()
    files = []
    for name in ("people/kit_harington/kit_harington_1.jpg", "people/rose_leslie/rose_leslie_1.jpg"):
        files.append(folder / Path(name).name)
        files[-1].write_bytes((faces_dir / name).read_bytes())
    files.append(folder / "sky.jpg")
    files[-1].write_bytes(no_face_photo())
    archive = folder / "more.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for name in (
            "people/kit_harington/kit_harington_2.jpg",
            "people/rose_leslie/rose_leslie_2.jpg",
            "groups/kit_with_rose.jpg",
        ):
            zipped.write(faces_dir / name, f"more/{Path(name).name}")
        zipped.writestr("more/notes.txt", "not a photo")
    return [*files, archive]


def _cluster_of(owner: UserInfo, photo_name: str) -> int:
    """The group holding the face of `photo_name` (read from the database the server writes)."""
    photos = {p.id: p.original_name for p in library.list_photos(owner.id, page_size=100).items}
    for cluster in clustering.current_clusters(owner.id).clusters:
        if any(photos.get(face.photo_id) == photo_name for face in cluster.faces):
            return cluster.cluster_id
    raise AssertionError(f"no group holds {photo_name}: {clustering.current_clusters(owner.id)}")


def _tick(page: Page, key: str) -> None:
    page.locator(f".st-key-{key} label").first.click()  # during a rerun the old gallery can still be in the page
    wait_for_run(page)


def test_the_studio_journey(page: Page, site: Path, faces_dir: Path, tmp_path: Path) -> None:
    ann = register("Ann", "ann@example.com", PASSWORD, PASSWORD)
    register("Bob", "bob@example.com", PASSWORD, PASSWORD)
    with run_app_server(site) as server:
        _sign_in(page, server, "ann@example.com")
        sidebar = page.get_by_test_id("stSidebarNav")
        for title in ("People", "Library", "Search", "Clusters", "Export"):
            expect(sidebar.get_by_role("link", name=title, exact=True)).to_be_visible()

        # import: several photos and a zip, in the background with progress, then the report
        _nav(page, "Library")
        album = _album(faces_dir, tmp_path / "album")
        page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(album)
        for path in album:  # every upload has reached the server
            expect(page.get_by_role("button", name=f"Remove {path.name}")).to_be_visible()
        page.get_by_label("Album name", exact=True).fill("Summer")
        page.get_by_role("button", name="Import", exact=True).click()
        progress = page.get_by_text(re.compile(r"\d+ of 7 photos · \d+ faces?"))
        expect(progress.first).to_be_visible()  # the panel polls while the import runs in the background
        expect(page.get_by_text("Import finished")).to_be_visible(timeout=IMPORT_MS)
        _shot(page, "1-library")
        expect(page.get_by_role("cell", name="notes.txt").first).to_be_visible()  # one bad file: one line
        expect(page.get_by_text("kit_with_rose.jpg · 2 faces")).to_be_visible()
        expect(page.get_by_text("kit_harington_1.jpg · 1 face")).to_be_visible()
        assert page.locator("[data-testid='stImage'] img").count() >= 5  # five photos with faces, boxed

        page.locator("[class*='st-key-library-open-'] button").first.click()
        expect(page.get_by_role("button", name="Close")).to_be_visible()
        _shot(page, "2-photo")
        page.get_by_role("button", name="Close").click()

        page.get_by_role("radio", name="No faces").click()
        expect(page.get_by_text("sky.jpg · ")).to_be_visible()
        _shot(page, "3-no-faces")

        # search with a photo of Kit the library does not hold, the slider moved up two notches
        _nav(page, "Search")
        page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(faces_dir / SAMPLE))
        slider = page.get_by_role("slider")
        expect(slider).to_be_visible()
        expect(page.get_by_text("stranger").first).to_be_visible()  # the measured risk in words
        before = int(slider.input_value())
        slider.focus()
        slider.press("ArrowLeft")
        slider.press("ArrowLeft")
        expect(slider).to_have_value(str(before - 2))
        page.get_by_role("button", name="Search", exact=True).click()
        expect(page.get_by_text("kit_harington_1.jpg").first).to_be_visible()
        results = page.locator("[data-testid='stCaptionContainer']").filter(has_text=" % · ").all_inner_texts()
        assert results and not any("rose_leslie" in text for text in results), results
        similarities = [float(text.split(" %")[0]) for text in results]
        assert similarities == sorted(similarities, reverse=True), similarities
        _shot(page, "4-search")

        # group the faces, name Kit's group, then correct it
        _nav(page, "Clusters")
        page.get_by_role("button", name="Find groups").click()
        expect(page.get_by_text("found (")).to_be_visible(timeout=120_000)
        _shot(page, "5-clusters")
        kit_group = _cluster_of(ann, "kit_harington_1.jpg")
        wait_for_run(page)
        page.locator(f".st-key-name-{kit_group}-text input").fill("Kit")
        page.locator(f".st-key-name-{kit_group}-text input").press("Tab")
        page.locator(f"[data-testid='stForm']:has(.st-key-name-{kit_group}-text)").get_by_role(
            "button", name="Name group"
        ).click()
        expect(page.get_by_text("The group is now “Kit”.")).to_be_visible()
        [kit] = [p for p in people.list_people(ann.id) if p.name == "Kit"]

        # split one face off Rose's group, then merge the two groups back, and name them
        rose_group = _cluster_of(ann, "rose_leslie_1.jpg")
        rose_faces = next(c for c in clustering.current_clusters(ann.id).clusters if c.cluster_id == rose_group).faces
        if len(rose_faces) > 1:
            _tick(page, f"cluster-{rose_group}-pick-{rose_faces[-1].id}")
            page.locator(f".st-key-cluster-{rose_group}-split button").click()
            expect(page.get_by_text("The ticked faces are now group")).to_be_visible()
            groups = [c.cluster_id for c in clustering.current_clusters(ann.id).clusters]
            assert len(groups) >= 2, groups
            merge = page.get_by_role("combobox", name="Merge these groups")
            for group in (rose_group, max(groups)):
                merge.click()
                page.get_by_role("option", name=f"Group {group}", exact=True).click()
            merge.press("Escape")
            page.get_by_role("button", name="Merge groups").click()
            expect(page.get_by_text(f"Merged into group {min(rose_group, max(groups))}.")).to_be_visible()
            rose_group = min(rose_group, max(groups))
        wait_for_run(page)
        page.locator(f".st-key-name-{rose_group}-text input").fill("Rose")
        page.locator(f".st-key-name-{rose_group}-text input").press("Tab")
        page.locator(f"[data-testid='stForm']:has(.st-key-name-{rose_group}-text)").get_by_role(
            "button", name="Name group"
        ).click()
        expect(page.get_by_text("The group is now “Rose”.")).to_be_visible()

        _nav(page, "People")
        expect(page.get_by_text("Kit", exact=True)).to_be_visible()
        expect(page.get_by_text("Rose", exact=True)).to_be_visible()
        _shot(page, "6-people")
        page.locator(f".st-key-person-open-{kit.id} button").click()
        wrong = people.person_faces(ann.id, kit.id)[-1]
        _tick(page, f"person-{kit.id}-faces-pick-{wrong.id}")
        page.locator(f".st-key-person-{kit.id}-faces-reject").get_by_role("button", name="Not this person").click()
        expect(page.get_by_text("1 face removed from Kit")).to_be_visible()
        assert wrong.id not in {face.id for face in people.person_faces(ann.id, kit.id)}
        _shot(page, "7-person-corrected")

        # export the CSV through the download button
        _nav(page, "Export")
        page.get_by_role("button", name="Prepare the export").click()
        with page.expect_download() as download_info:
            page.get_by_role("button", name="Download").first.click()
        rows = list(csv.DictReader(io.StringIO(Path(download_info.value.path()).read_text())))
        assert rows and len(rows) == len(library.face_vectors(ann.id, rows[0]["embedder"])[0]), rows
        assert any("Rose" in row.values() for row in rows), rows[:3]
        _shot(page, "8-export")

        # Bob sees none of it
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_text("You are signed out.")).to_be_visible()
        _sign_in(page, server, "bob@example.com")
        _nav(page, "Library")
        expect(page.get_by_text("Import photos")).to_be_visible()
        expect(page.get_by_text("No photos with faces yet")).to_be_visible()
        assert page.locator("[data-testid='stImage'] img").count() == 0
        _shot(page, "9-bob-library")
        _nav(page, "People")
        expect(page.get_by_text("Nobody is named yet")).to_be_visible()
        _nav(page, "Search")
        expect(page.get_by_text("Your library has no faces yet")).to_be_visible()
        page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(faces_dir / SAMPLE))
        page.get_by_role("button", name="Search", exact=True).click()
        expect(page.get_by_text("No face in your library is that close")).to_be_visible()
        _shot(page, "10-bob-search")
