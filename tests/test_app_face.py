"""Face sign-in through AppTest: enrol with st.camera_input, delete face data, sign in, and the lockout.

The webcam component cannot stream under AppTest, so the sign-in tests hand photos to the
session's `LiveSignIn` exactly as the video worker would (one `process` call per frame) and let
the page show what it decided. streamlit-webrtc looks its session up in a live Runtime, which
AppTest does not have: that lookup is patched to "no session", as in a bare script run.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.accounts.users import UserInfo, register
from core.config import get_settings
from core.face_signin.enrolment import FACE_DIR, enrol_photo, enrolment_of
from core.face_signin.live import LiveSignIn
from tests.support.app_driver import button, go, open_app, sign_in, texts, widget
from tests.support.fake_camera import webcam_frame

OBAMA = "people/obama/obama_2.jpg"


@pytest.fixture
def face_site(site: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The site with a quick lockout (2 failures) and no webrtc session lookup."""
    monkeypatch.setattr("streamlit_webrtc.component.get_this_session_info", lambda: None)
    monkeypatch.setenv("WEBTUBE_LOGIN_MAX_FAILURES", "2")
    monkeypatch.setenv("WEBTUBE_LIVENESS", "false")
    get_settings.cache_clear()
    yield site
    get_settings.cache_clear()


class _SteppedClock:
    """The sign-in's monotonic clock, moved on by the test: a timeout is then seen by how far the test moves
    it, never by how long a busy machine took over the frames before it (real time goes on underneath)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def monotonic(self) -> float:
        return time.monotonic() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> _SteppedClock:
    stepped = _SteppedClock()
    monkeypatch.setattr("core.face_signin.live.time", stepped)
    return stepped


def _liveness(monkeypatch: pytest.MonkeyPatch, timeout_s: float) -> None:
    monkeypatch.setenv("WEBTUBE_LIVENESS", "true")
    monkeypatch.setenv("WEBTUBE_LIVENESS_TIMEOUT_S", str(timeout_s))
    get_settings.cache_clear()


def _account(name: str, photo: str | None, faces_dir: Path) -> UserInfo:
    user = register(name, f"{name.lower()}@example.com", "a long enough password", "a long enough password")
    if photo:
        enrol_photo(user.id, (faces_dir / photo).read_bytes(), keep_image=False)
    return user


def _shoot(at: AppTest, faces_dir: Path, photo: str) -> AppTest:
    if not at.get("camera_input"):  # the camera runs only in its tab, once that tab is chosen
        at.session_state["face-enrol-way"] = "Take one photo"
        at.run()
    widget(at, "camera_input", "Take a photo of your face").set_value(
        ("shot.jpg", (faces_dir / photo).read_bytes(), "image/jpeg")
    )
    return at.run()


def _signin_panel(at: AppTest) -> LiveSignIn:
    live, _worker = at.session_state["face_signin"]
    return live


def _frames(live: LiveSignIn, faces_dir: Path, photo: str, count: int, clock: _SteppedClock | None = None) -> None:
    """What the video worker does with `count` frames of a camera showing `photo`."""
    rgb = webcam_frame(faces_dir / photo)
    for _ in range(count):
        live.process(rgb, (clock or time).monotonic())


def _messages(at: AppTest) -> list[str]:
    return texts(at, "error") + texts(at, "warning") + texts(at, "info")


def test_enrol_from_the_camera_and_see_it_in_the_profile(face_site: Path, faces_dir: Path) -> None:
    ann = _account("Ann", None, faces_dir)
    at = open_app(ann.id, "pages/profile.py")
    assert "No face enrolled yet: face sign-in is off for your account." in texts(at, "caption")
    widget(
        at, "checkbox", "Keep a snapshot of my face with each sample (shown here, deleted with my face data)"
    ).check()
    _shoot(at.run(), faces_dir, OBAMA)
    assert not at.exception
    assert texts(at, "success") == ["Face sample saved from the camera."]
    assert any(text.startswith("**1 face sample** enrolled, the latest on ") for text in texts(at, "markdown"))
    (sample,) = enrolment_of(ann.id).samples
    assert sample.image is not None and sample.image.is_file()
    assert len(at.main.get("image")) == 1  # the kept snapshot, shown as a thumbnail
    at.run()  # the photo stays in the widget; it must not be enrolled twice
    assert enrolment_of(ann.id).count == 1


def test_camera_shots_without_one_good_face_are_refused(face_site: Path, faces_dir: Path) -> None:
    ann = _account("Ann", None, faces_dir)
    at = open_app(ann.id, "pages/profile.py")
    _shoot(at, faces_dir, "groups/two_people.jpg")
    assert texts(at, "error") == ["2 faces were found; use a photo with only one face."]
    _shoot(at, faces_dir, "hard/obama_partial_face_1.jpg")
    assert texts(at, "error")[0] == "Part of the face is outside the picture: use one where the whole face shows."
    assert enrolment_of(ann.id).count == 0


def test_someone_elses_face_is_refused_on_the_profile(face_site: Path, faces_dir: Path) -> None:
    _account("Ann", "people/obama/obama_1.jpg", faces_dir)
    bob = _account("Bob", None, faces_dir)
    at = _shoot(open_app(bob.id, "pages/profile.py"), faces_dir, OBAMA)
    assert texts(at, "error") == [
        "This face matches another account's enrolled face, so it cannot be added to yours. Nothing was saved. "
        "If it is your face, an admin can clear the other account's face samples: ask one, then enrol again."
    ]
    assert enrolment_of(bob.id).count == 0


def test_delete_my_face_data(face_site: Path, faces_dir: Path) -> None:
    ann = _account("Ann", None, faces_dir)
    enrol_photo(ann.id, (faces_dir / "people/obama/obama_1.jpg").read_bytes(), keep_image=True)
    enrol_photo(ann.id, (faces_dir / OBAMA).read_bytes(), keep_image=True)
    at = open_app(ann.id, "pages/profile.py")
    assert len(at.main.get("image")) == 1 and any("**2 face samples**" in t for t in texts(at, "markdown"))
    button(at, "Delete my face data").click()
    at.run()
    assert "Face sign-in stops working until you enrol again." in texts(at, "warning")[0]
    button(at, "Yes, delete my face data").click()
    at.run()
    assert texts(at, "success") == ["Your face data is deleted (2 samples)."]
    assert "No face enrolled yet: face sign-in is off for your account." in texts(at, "caption")
    assert enrolment_of(ann.id).count == 0
    assert not (face_site / FACE_DIR / str(ann.id)).exists()


def test_an_enrolled_face_signs_in_like_the_password_does(face_site: Path, faces_dir: Path) -> None:
    ann = _account("Ann", "people/obama/obama_1.jpg", faces_dir)
    _account("Bob", "people/biden/biden_1.jpg", faces_dir)
    at = go(open_app(), "pages/sign_in.py")
    assert "Sign in with your face" in texts(at, "subheader")
    _frames(_signin_panel(at), faces_dir, OBAMA, 5)
    at.run()
    assert at.session_state["user_id"] == ann.id
    assert texts(at, "success") == ["Welcome back, Ann."]
    assert texts(at.sidebar, "markdown") == ["Signed in as **Ann**"]


def test_an_unknown_face_is_not_recognised_and_limited_per_browser(face_site: Path, faces_dir: Path) -> None:
    _account("Ann", "people/obama/obama_1.jpg", faces_dir)
    at = go(open_app(), "pages/sign_in.py")
    for _ in range(2):
        _frames(_signin_panel(at), faces_dir, "people/kit_harington/kit_harington_1.jpg", 8)
        at.run()
        assert texts(at, "error") == ["Not recognised. Sign in with your password, or try again."]
        assert "user_id" not in at.session_state
        button(at, "Try again").click()
        at.run()
    assert texts(at, "error")[0].startswith("Too many faces were not recognised from this browser. Try again in 15 min")
    _frames(_signin_panel(at), faces_dir, OBAMA, 8)  # even Ann's face is not looked at now
    at.run()
    assert "user_id" not in at.session_state
    assert widget(at, "text_input", "Email")  # the password form stays available


def test_failed_head_turns_lock_the_account_for_passwords_too(
    face_site: Path, faces_dir: Path, monkeypatch: pytest.MonkeyPatch, clock: _SteppedClock
) -> None:
    _liveness(monkeypatch, timeout_s=60.0)
    _account("Ann", "people/obama/obama_1.jpg", faces_dir)
    at = go(open_app(), "pages/sign_in.py")
    _frames(_signin_panel(at), faces_dir, OBAMA, 5, clock)  # a still photo: recognised, then never turns
    at.run()
    assert texts(at, "warning")[0].startswith("Recognised, now turn your head to your ")
    clock.advance(61.0)
    at.run()
    assert texts(at, "error") == ["The head turn was not seen in time. Try again, or sign in with your password."]
    button(at, "Try again").click()
    at.run()
    _frames(_signin_panel(at), faces_dir, OBAMA, 5, clock)
    clock.advance(61.0)
    at.run()
    assert texts(at, "error")[0].startswith("Too many failed sign-ins for this email. Try again in ")
    sign_in(at, "ann@example.com", "a long enough password")  # the right password: still locked
    assert texts(at, "error")[0].startswith("Too many failed sign-ins for this email.")
    assert "user_id" not in at.session_state


def test_a_locked_account_is_not_signed_in_by_its_face(face_site: Path, faces_dir: Path) -> None:
    _account("Ann", "people/obama/obama_1.jpg", faces_dir)
    at = open_app()
    for _ in range(2):
        sign_in(at, "ann@example.com", "wrong password")
    at = go(open_app(), "pages/sign_in.py")
    live = _signin_panel(at)
    _frames(live, faces_dir, OBAMA, 5)
    at.run()
    assert texts(at, "error")[0].startswith("Too many failed sign-ins for this email. Try again in ")
    assert "user_id" not in at.session_state


def test_ice_servers_are_always_given_so_no_turn_credentials_are_fetched(
    face_site: Path, faces_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """streamlit-webrtc fetches TURN credentials (HF_TOKEN, TWILIO_*, CLOUDFLARE_*) only without iceServers."""
    for name in ("HF_TOKEN", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"):
        monkeypatch.setenv(name, "set-in-this-environment")

    def no_network() -> list:
        raise AssertionError("streamlit-webrtc tried to fetch ICE servers")

    monkeypatch.setattr("streamlit_webrtc.component.get_available_ice_servers", no_network)
    monkeypatch.setenv("WEBTUBE_ICE_SERVERS", '[{"urls": "stun:stun.example.org:3478"}]')
    get_settings.cache_clear()
    ann = _account("Ann", None, faces_dir)
    for at in (go(open_app(), "pages/sign_in.py"), open_app(ann.id, "pages/profile.py")):
        assert not at.exception
        configs = [np.asarray(c.proto.json_args) for c in at.get("component_instance")]
        assert configs and all("stun:stun.example.org:3478" in str(c) for c in configs)
