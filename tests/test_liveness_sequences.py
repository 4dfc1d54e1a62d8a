"""Liveness against real frame sequences, through the live sign-in on a real database and the real engine.

Attacks are built from real photos of the enrolled person (a still photo, a slideshow of poses, a
photo alternating with its mirror image, a second face pasted in); each must fail and be counted
against the account like a wrong password. The genuine case is the real clip of Lin-Manuel
Miranda turning his head, analysed at the rates the live path reaches (it drops frames).
Timestamps are the frames' own, so a 4-second move costs no waiting.
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.accounts.users import register
from core.config import get_settings
from core.face_signin.decision import Phase
from core.face_signin.enrolment import candidate, enrol
from core.face_signin.live import LiveSignIn
from core.faces.engine import get_engine
from core.faces.liveness import Move, random_moves
from core.storage.database import session_scope
from core.storage.models import LoginFailure
from tests.support.frame_sequences import CachedEngine, Frames, analysed, clip_frames, mirrored, paste_face, photo, show

EVERY_S = 0.1  # the live path analyses about 10 to 15 frames a second on two cores


@pytest.fixture
def engine(site: Path, monkeypatch: pytest.MonkeyPatch) -> CachedEngine:
    """Liveness on (4 s a move), and a lockout high enough that every attempt is counted, not refused."""
    monkeypatch.setenv("WEBTUBE_LIVENESS", "true")
    monkeypatch.setenv("WEBTUBE_LIVENESS_TIMEOUT_S", "4")
    monkeypatch.setenv("WEBTUBE_LOGIN_MAX_FAILURES", "50")
    get_settings.cache_clear()
    return CachedEngine(get_engine())


def _account(name: str, frames: list, engine: CachedEngine) -> str:
    email = f"{name.lower()}@example.com"
    user = register(name, email, "a long enough password", "a long enough password")
    enrol(user.id, [candidate(rgb, engine.single_face(rgb)) for rgb in frames], keep_images=False)
    return email


def _failures(email: str) -> int:
    with session_scope() as session:
        return int(session.scalar(select(func.count()).where(LoginFailure.email == email)) or 0)


def _attempt(live: LiveSignIn, frames: Frames, every_s: float = EVERY_S, offset_s: float = 0.0) -> Phase:
    """One attempt over the frames the worker would analyse; returns how it ended."""
    live.start()
    start = time.monotonic()
    for at, rgb in analysed(frames, every_s, offset_s):
        live.process(rgb, start + at)
    status = live.status()
    assert status.progress.phase.finished, f"the attempt did not end: {status.progress.message}"
    return status.progress.phase


@pytest.fixture
def ann(engine: CachedEngine, faces_dir: Path) -> str:
    """Ann enrolled with Obama's first photo; the attacks use his other photos."""
    return _account("Ann", [photo(faces_dir, "people/obama/obama_1.jpg")], engine)


def _moves_starting(first: Move):
    def choose(count: int) -> tuple[Move, ...]:
        while (moves := random_moves(count))[0] is not first:
            pass
        return moves

    return choose


@pytest.mark.parametrize("mirror", [False, True], ids=["as-filmed", "mirrored"])
@pytest.mark.parametrize("every_s", [0.067, 0.1, 0.133])
def test_a_real_head_turn_passes(engine: CachedEngine, faces_dir: Path, mirror: bool, every_s: float) -> None:
    """The clip turns to his right and back twice; mirrored, the same real turn goes to his left."""
    frames = clip_frames(faces_dir, mirror=mirror)
    enrolment = [rgb for at, rgb in frames if 2.8 <= at <= 3.2][::5]  # three frontal frames, later in the clip
    email = _account("Lin", enrolment, engine)
    side = Move.LEFT if mirror else Move.RIGHT
    live = LiveSignIn(engine=engine, choose_moves=lambda count: (side, Move.CENTRE, side))
    assert _attempt(live, frames, every_s) is Phase.SIGNED_IN
    assert live.status().user is not None and live.status().user.email == email


@pytest.mark.parametrize("first", [Move.LEFT, Move.RIGHT])
def test_a_photo_alternating_with_its_mirror_image_is_refused_8_of_8(
    engine: CachedEngine, faces_dir: Path, ann: str, first: Move
) -> None:
    """Each mirror flip changes the yaw by about 0.6 at once: a cut, whichever side was asked first."""
    live = LiveSignIn(engine=engine, choose_moves=_moves_starting(first))
    phases = []
    for attempt, name in zip(range(8), itertools.cycle(["obama_2.jpg", "obama_4.jpg"]), strict=False):
        picture = photo(faces_dir, f"people/obama/{name}")
        flips = [(picture, 1.5), (mirrored(picture), 1.5)] * 6
        phases.append(_attempt(live, show(flips if attempt % 2 else flips[1:]), offset_s=attempt * 0.19))
    assert phases == [Phase.LIVENESS_FAILED] * 8
    assert _failures(ann) == 8
    assert "not continuous" in live.status().progress.message


def test_a_slideshow_of_poses_is_refused(engine: CachedEngine, faces_dir: Path, ann: str) -> None:
    """Three or four photos of the person with different head poses, 1.5 to 4 s each."""
    poses = {name: photo(faces_dir, f"people/obama/{name}.jpg") for name in ("obama_1", "obama_2", "obama_4")}
    shows = [  # yaw -0.26, +0.34 and -0.03 (every photo of him with a face big enough in a webcam frame)
        [("obama_2", 2.0), ("obama_4", 1.5), ("obama_1", 4.0), ("obama_2", 3.0)],
        [("obama_2", 1.5), ("obama_1", 2.5), ("obama_4", 3.0), ("obama_1", 2.0)],
        [("obama_4", 3.0), ("obama_2", 4.0), ("obama_1", 1.5), ("obama_4", 2.0)],
    ]
    live = LiveSignIn(engine=engine)
    phases = [_attempt(live, show([(poses[name], seconds) for name, seconds in slides])) for slides in shows]
    assert phases == [Phase.LIVENESS_FAILED] * 3
    assert _failures(ann) == 3


def test_a_still_photo_times_out_and_is_counted(engine: CachedEngine, faces_dir: Path, ann: str) -> None:
    live = LiveSignIn(engine=engine)
    assert _attempt(live, show([(photo(faces_dir, "people/obama/obama_2.jpg"), 6.0)])) is Phase.LIVENESS_FAILED
    assert live.status().progress.message.startswith("The head turn was not seen in time.")
    assert _failures(ann) == 1


def test_a_second_face_during_the_challenge_fails(engine: CachedEngine, faces_dir: Path, ann: str) -> None:
    alone = photo(faces_dir, "people/obama/obama_2.jpg")
    biden = photo(faces_dir, "people/biden/biden_1.jpg")
    x1, y1, x2, y2 = (round(v) for v in engine.confident_faces(biden)[0].detection.box)
    pad = (x2 - x1) // 3
    joined = paste_face(alone, biden[max(y1 - pad, 0) : y2 + pad, max(x1 - pad, 0) : x2 + pad], size=200)
    assert len(engine.confident_faces(joined)) == 2
    live = LiveSignIn(engine=engine)
    assert _attempt(live, show([(alone, 1.5), (joined, 1.0)])) is Phase.LIVENESS_FAILED
    assert "a second face came into view" in live.status().progress.message
    assert _failures(ann) == 1
