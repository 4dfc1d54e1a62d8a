"""Live recognition test material: camera frames holding several of the test photos' faces side by side, a
.y4m clip of them for Chromium's fake webcam, a library where some of those people are already named, and
the way into Studio › Live in Chromium.

A scene crops each photo around its main face (found by the real engine) and lays the crops out in a
row on a grey frame, so one frame shows several people at once, as a camera looking at a group would.
"""

from __future__ import annotations

import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from playwright.sync_api import expect

from core.faces.engine import get_engine
from core.faces.images import load_image
from core.studio import library, people
from core.studio.importer import import_paths
from tests.support.paths import FACES_DIR

OBAMA = "people/obama/obama_2.jpg"
BIDEN = "people/biden/biden_2.jpg"
KIT = "people/kit_harington/kit_harington_1.jpg"
FIVE = (OBAMA, BIDEN, KIT, "people/rose_leslie/rose_leslie_1.jpg", "people/alex_lacamoire/alex_lacamoire_1.jpg")
KNOWN = {"Barack Obama": ("people/obama/obama_1.jpg",), "Joe Biden": ("people/biden/biden_1.jpg",)}


@lru_cache(maxsize=16)
def face_crop(photo: str) -> Image.Image:
    """A square crop of `photo` around its main face, 1.8 face widths across."""
    rgb = load_image(FACES_DIR / photo)
    face = get_engine().confident_faces(rgb)[0]
    x1, y1, x2, y2 = face.detection.box
    cx, cy, side = (x1 + x2) / 2, (y1 + y2) / 2, 1.8 * max(x2 - x1, y2 - y1)
    return Image.fromarray(rgb).crop((int(cx - side / 2), int(cy - side / 2), int(cx + side / 2), int(cy + side / 2)))


def scene(
    photos: tuple[str, ...], size: tuple[int, int] = (640, 480), order: tuple[int, ...] | None = None
) -> np.ndarray:
    """An RGB frame of `size` with the faces of `photos` in a row (slot i holds photo order[i])."""
    width, height = size
    slot = width // len(photos)
    side = min(slot, int(height * 0.55))
    canvas = Image.new("RGB", size, (96, 96, 96))
    for place, which in enumerate(order or range(len(photos))):
        canvas.paste(face_crop(photos[which]).resize((side, side), Image.Resampling.LANCZOS),
                     (place * slot + (slot - side) // 2, (height - side) // 2))
    return np.asarray(canvas)


def scene_y4m(frames: list[tuple[np.ndarray, float]], out: Path, fps: int = 15) -> Path:
    """A camera clip (Chromium loops it) showing each RGB frame for its seconds, at the frames' own size."""
    height, width = frames[0][0].shape[:2]
    raw = b"".join(rgb.tobytes() * max(round(seconds * fps), 1) for rgb, seconds in frames)
    command = ["ffmpeg", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}",
               "-r", str(fps), "-i", "-", "-vf", "format=yuv420p", "-f", "yuv4mpegpipe", str(out)]
    subprocess.run(command, check=True, timeout=120, input=raw)
    return out


def name_people(owner_id: int, named: dict[str, tuple[str, ...]], work: Path) -> dict[str, int]:
    """Import each person's photos into `owner_id`'s library through the importer and name their main face;
    returns name -> person id."""
    ids = {}
    for name, photos in named.items():
        folder = work / name.replace(" ", "_")
        folder.mkdir(parents=True)
        for photo in photos:
            (folder / Path(photo).name).write_bytes((FACES_DIR / photo).read_bytes())
        summary = import_paths(owner_id, [folder], name, "folder")
        assert summary.failures == 0 and summary.photos == len(photos), summary
        person = people.create_person(owner_id, name)
        album = next(a for a in library.list_albums(owner_id) if a.name == name)
        for photo in library.list_photos(owner_id, album_id=album.id).items:
            faces = library.photo_detail(owner_id, photo.id).faces
            main = max(faces, key=lambda f: (f.score >= 0.99, (f.box[2] - f.box[0]) * (f.box[3] - f.box[1])))
            people.assign_face(owner_id, main.id, person.id)
        ids[name] = person.id
    return ids


def open_live(page: Any, server_url: str, email: str, password: str) -> None:
    """Sign in with the password form (through app.py's navigation, as people arrive) and open Studio › Live."""
    page.goto(server_url + "/")
    expect(page.get_by_test_id("stSidebar").get_by_text("Not signed in")).to_be_visible()
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Sign in").click()
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Signed in as")).to_be_visible()
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Live", exact=True).click()
    expect(page.get_by_role("heading", name="Live recognition")).to_be_visible()
