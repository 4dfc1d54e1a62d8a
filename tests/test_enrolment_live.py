"""Live enrolment from webcam-sized frames of the real photos: what to fix, and samples in different poses."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.accounts.users import register
from core.face_signin.enrolment import enrol, enrolment_of
from core.face_signin.enrolment_live import MAX_SAMPLES, SampleCollector
from core.faces.overlay import AMBER, GREEN
from tests.support.fake_camera import webcam_frame


@pytest.fixture(scope="module")
def collector() -> SampleCollector:
    return SampleCollector()


def _show(collector: SampleCollector, frame: np.ndarray) -> str:
    collector.process(frame, time.monotonic())
    return collector.status().hint


def test_the_person_is_told_what_to_fix(collector: SampleCollector, faces_dir: Path) -> None:
    frame = webcam_frame(faces_dir / "people/obama/obama_2.jpg")
    assert _show(collector, np.zeros_like(frame)) == "No face found: look at the camera."
    assert _show(collector, webcam_frame(faces_dir / "groups/two_people.jpg")) == (
        "Several faces: only you should be in view."
    )
    far = np.zeros_like(frame)
    far[:120, :160] = cv2.resize(frame, (160, 120), interpolation=cv2.INTER_AREA)
    assert _show(collector, far) == "Your face is too far away: come a little closer to the camera."
    assert _show(collector, (frame * 0.12).astype(np.uint8)) == (
        "The picture is blurred: hold still for a moment, or add light."
    )
    overlay = collector.process(far, time.monotonic())
    assert overlay.colour == AMBER and overlay.boxes and overlay.boxes[0][1] == AMBER
    assert collector.status().count == 0


def test_good_faces_are_kept_only_in_new_poses_and_enrolled(site: Path, faces_dir: Path) -> None:
    collector = SampleCollector()
    people = faces_dir / "people/obama"
    frontal, left, right = (webcam_frame(people / name) for name in ("obama_1.jpg", "obama_2.jpg", "obama_4.jpg"))
    overlay = collector.process(frontal, time.monotonic())
    assert overlay.colour == GREEN and overlay.caption == f"Samples 1/{MAX_SAMPLES}"
    collector.process(frontal, time.monotonic())  # the same pose again: not a new sample
    collector.process(webcam_frame(people / "obama_5_small.jpg"), time.monotonic())  # another photo, same pose
    assert collector.status().count == 1
    assert "Turn or tilt your head a little" in collector.status().hint
    collector.process(left, time.monotonic())
    collector.process(right, time.monotonic())
    status = collector.status()
    assert status.count == 3 and status.ready
    user = register("Ann", "ann@example.com", "a long enough password", "a long enough password")
    samples = collector.take()
    assert len(samples) == 3 and collector.status().count == 0
    assert enrol(user.id, samples, keep_images=True).count == 3
    assert all(sample.image is not None for sample in enrolment_of(user.id).samples)
