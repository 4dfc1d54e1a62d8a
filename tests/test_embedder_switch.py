"""Switching WEBTUBE_EMBEDDER on an existing database never compares vectors of different models.

Enrolment stores each face once per installed model, so a switch keeps enrolled people signing in at
once; a face enrolled before that (one model only) is left out of sign-in and its owner told to re-enrol.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from core.accounts.users import UserInfo, register
from core.config import get_settings
from core.face_signin.decision import Phase
from core.face_signin.enrolment import delete_face_data, enrol_photo, enrolment_of, gallery
from core.face_signin.live import LiveSignIn
from core.face_signin.stale_samples import stale_samples
from core.faces.engine import get_engine
from core.faces.images import load_image
from core.storage.database import session_scope
from core.storage.models import FaceSample, utcnow
from tests.support.app_driver import open_app, texts

PHOTO = "people/obama/obama_2.jpg"


def _use(monkeypatch: pytest.MonkeyPatch, embedder: str) -> None:
    monkeypatch.setenv("WEBTUBE_EMBEDDER", embedder)
    get_settings.cache_clear()


def _sign_in_with(faces_dir: Path, relative: str) -> Phase:
    """Show the photo to a fresh live sign-in for a whole window of frames (no head turn asked)."""
    live = LiveSignIn()
    frame = load_image(faces_dir / relative)
    for number in range(live.rules.window):
        live.process(frame, arrived=float(number))
        if live.status().progress.phase.finished:
            break
    return live.status().progress.phase


def _legacy_sample(user_id: int, vector: np.ndarray, model: str) -> None:
    """A sample as enrolment stored it before every installed model embedded each face: one model's row."""
    with session_scope() as session:
        session.add(FaceSample(user_id=user_id, embedding=np.asarray(vector, "<f4").tobytes(), embedder=model,
                               dim=len(vector), created_at=utcnow()))


def _models(user_id: int) -> list[str]:
    with session_scope() as session:
        return sorted(session.scalars(select(FaceSample.embedder).where(FaceSample.user_id == user_id)))


@pytest.fixture
def ann(site: Path, monkeypatch: pytest.MonkeyPatch) -> UserInfo:
    monkeypatch.setenv("WEBTUBE_LIVENESS", "false")
    _use(monkeypatch, "dlib")
    return register("Ann", "ann@example.com", "a long enough password", "a long enough password")


@pytest.mark.parametrize(("first", "then"), [("dlib", "sface"), ("sface", "dlib")])
def test_a_face_enrolled_with_every_model_signs_in_at_once_after_a_switch(
    ann: UserInfo, faces_dir: Path, monkeypatch: pytest.MonkeyPatch, first: str, then: str
) -> None:
    _use(monkeypatch, first)
    enrol_photo(ann.id, (faces_dir / PHOTO).read_bytes(), keep_image=False)
    assert _models(ann.id) == ["dlib", "sface"]
    assert _sign_in_with(faces_dir, PHOTO) is Phase.SIGNED_IN

    _use(monkeypatch, then)
    assert get_engine().embedder.name == then
    assert gallery().accounts == (ann.id,)
    (stored,) = gallery().embeddings  # the row the other model made at enrolment: its own engine's vector
    assert np.allclose(stored, get_engine().single_face(load_image(faces_dir / PHOTO)).embedding, atol=1e-5)
    assert stale_samples(ann.id).message == ""
    assert enrolment_of(ann.id).count == 1
    assert _sign_in_with(faces_dir, PHOTO) is Phase.SIGNED_IN


def test_a_legacy_single_model_account_is_left_out_and_told_to_re_enrol(
    ann: UserInfo, faces_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    photo = load_image(faces_dir / PHOTO)
    _legacy_sample(ann.id, get_engine().single_face(photo).embedding, "dlib")
    assert _sign_in_with(faces_dir, PHOTO) is Phase.SIGNED_IN

    _use(monkeypatch, "sface")
    # The attack: a row labelled dlib that holds exactly Ann's SFace vector. Both models give 128 values,
    # so only the model's name tells them apart; comparing across models would let this row sign Ann in.
    _legacy_sample(ann.id, get_engine().single_face(photo).embedding, "dlib")
    assert gallery().accounts == ()
    assert _sign_in_with(faces_dir, PHOTO) is Phase.NOT_RECOGNISED

    stale = stale_samples(ann.id)
    assert (stale.count, stale.models, stale.current) == (2, ("dlib",), "sface")
    assert "2 of your face samples were made by another face model (dlib)" in stale.message
    assert "delete your face data below and enrol again" in stale.message

    # Enrolling one more face now stores it for both models: one of her three faces is usable, two are not.
    enrol_photo(ann.id, (faces_dir / "people/obama/obama_1.jpg").read_bytes(), keep_image=False)
    assert (stale_samples(ann.id).count, enrolment_of(ann.id).count) == (2, 3)

    assert delete_face_data(ann.id) == 3
    assert _models(ann.id) == []
    enrol_photo(ann.id, (faces_dir / PHOTO).read_bytes(), keep_image=False)
    assert stale_samples(ann.id).message == ""
    assert _sign_in_with(faces_dir, PHOTO) is Phase.SIGNED_IN


def test_switching_back_ignores_the_newer_models_legacy_samples(
    ann: UserInfo, faces_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use(monkeypatch, "sface")
    vector = get_engine().single_face(load_image(faces_dir / PHOTO)).embedding
    _legacy_sample(ann.id, vector, "sface")
    _use(monkeypatch, "dlib")
    assert gallery().accounts == ()
    assert stale_samples(ann.id).models == ("sface",)
    dlib_vector = get_engine().single_face(load_image(faces_dir / PHOTO)).embedding
    assert not np.allclose(vector, dlib_vector, atol=0.1)  # the models' vectors for one face differ
    assert _sign_in_with(faces_dir, PHOTO) is Phase.NOT_RECOGNISED


def test_profile_tells_the_legacy_account_to_re_enrol(
    ann: UserInfo, faces_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("streamlit_webrtc.component.get_this_session_info", lambda: None)
    _legacy_sample(ann.id, get_engine().single_face(load_image(faces_dir / PHOTO)).embedding, "dlib")
    at = open_app(ann.id, "pages/profile.py")
    assert not texts(at, "warning")
    captions = texts(at, "caption")
    assert any(c.startswith("Face sign-in threshold 0.50 (dlib model). Fewer than 1 in 305") for c in captions)
    _use(monkeypatch, "sface")
    at = open_app(ann.id, "pages/profile.py")
    (warning,) = texts(at, "warning")
    assert warning.startswith("Your face sample was made by another face model (dlib)")
    assert "delete your face data below and enrol again" in warning
    assert any(c.startswith("Face sign-in threshold 0.85 (sface model).") for c in texts(at, "caption"))


@pytest.mark.parametrize(("override", "expected"), [(None, Phase.NOT_RECOGNISED), ("0.05", Phase.SIGNED_IN)])
def test_the_runner_up_margin_is_the_models_own(
    ann: UserInfo, faces_dir: Path, monkeypatch: pytest.MonkeyPatch, override: str | None, expected: Phase
) -> None:
    """The attack: a lookalike account 0.10 from Ann's face in SFace's units, about half that in dlib's.
    dlib's margin of 0.08 would let every frame vote for Ann; SFace's own margin (0.15) votes for nobody,
    and WEBTUBE_SIGNIN_MARGIN still overrides it."""
    if override is not None:
        monkeypatch.setenv("WEBTUBE_SIGNIN_MARGIN", override)
    _use(monkeypatch, "sface")
    assert get_engine().signin_margin == (0.15 if override is None else 0.05)
    bob = register("Bob", "bob@example.com", "a long enough password", "a long enough password")
    vector = get_engine().single_face(load_image(faces_dir / PHOTO)).embedding.astype(np.float64)
    aside = np.roll(vector, 1) - vector * float(np.dot(np.roll(vector, 1), vector) / np.dot(vector, vector))
    lookalike = vector + 0.10 * aside / np.linalg.norm(aside)
    _legacy_sample(ann.id, vector, "sface")
    _legacy_sample(bob.id, lookalike, "sface")
    assert _sign_in_with(faces_dir, PHOTO) is expected
