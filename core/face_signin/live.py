"""Live face sign-in for one browser session: engine per frame, the decision, and the lockout.

Each frame the worker thread hands over goes through the one face engine: the main (largest)
face is embedded and identified 1:N among enrolled accounts under the sign-in threshold and
margin, then `SigninDecision` (core/face_signin/decision.py) decides. The page only polls `status()`.

Face attempts count towards the same lockout as passwords. A finished attempt is one failure,
not every frame: an attempt that recognised account X but failed the head turn is a failed
sign-in for X's email (a `LoginFailure` row, the password lockout's own table); a recognised
account that is locked is refused before any challenge, as a password would be. An unknown face
has no email, so "not recognised" attempts are limited per browser session (same count and
window as the password lockout); reloading the page starts a new session and a new count, but
an unknown face never signs anyone in, so all it buys is more "not recognised".
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from core.accounts.users import (
    WARN_AT_ATTEMPTS,
    AccountLocked,
    UserInfo,
    attempts_left,
    attempts_warning,
    format_wait,
    get_user,
    lock_seconds_left,
    record_failure,
    unlock,
)
from core.config import Settings, get_settings
from core.face_signin.decision import FailureLimit, FrameResult, Phase, Progress, Rules, SigninDecision
from core.face_signin.enrolment import gallery
from core.face_signin.hints import spoken
from core.faces.engine import FaceEngine, get_engine
from core.faces.face_track import Sighting, TrackBounds
from core.faces.liveness import Move, random_moves
from core.faces.matching import identify
from core.faces.overlay import AMBER, GREEN, RED, Overlay
from core.faces.quality import MIN_FACE_WIDTH_PX
from core.faces.types import Face
from core.monitoring.signins import signin_outcome

# Detection score from which a face counts as a second face during the challenge.
SURE_FACE_SCORE = 0.99


@dataclass(frozen=True)
class Status:
    """What the sign-in panel shows; `user` is set only when the person is signed in."""

    progress: Progress
    user: UserInfo | None = None


def _sure(face: Face) -> bool:
    """A face, not a face-like patch: real faces score 0.99 and more, the clip's false boxes 0.90 to 0.98."""
    return face.detection.score >= SURE_FACE_SCORE and face.detection.width >= MIN_FACE_WIDTH_PX


def main_face(faces: list[Face]) -> Face:
    """The largest sure face (a larger face-like patch does not push the person aside), else the largest."""
    return next((face for face in faces if _sure(face)), faces[0])


def sighting(faces: list[Face], at: float) -> Sighting:
    """The main face for the challenge's track, and how many sure faces the frame holds besides it."""
    main = main_face(faces)
    assert main.embedding is not None
    count = 1 + sum(_sure(face) for face in faces if face is not main)
    return Sighting(at, main.detection.box, main.detection.landmarks, main.embedding, faces=count)


def _hint(reasons: tuple[str, ...]) -> str:
    return spoken(reasons[0]) if reasons else "Look at the camera."


class LiveSignIn:
    """Face sign-in state of one browser session; `process` runs in the frame worker's thread."""

    def __init__(
        self,
        engine: FaceEngine | None = None,
        settings: Settings | None = None,
        choose_moves: Callable[[int], tuple[Move, ...]] = random_moves,
    ) -> None:
        self.engine = engine or get_engine()
        self.settings = settings or get_settings()
        self.choose_moves = choose_moves  # tests fix the sequence; the site always draws it at random
        self.rules = Rules(
            votes=self.settings.signin_votes,
            window=self.settings.signin_window,
            liveness=self.settings.liveness,
            liveness_timeout_s=self.settings.liveness_timeout_s,
            moves=self.settings.liveness_moves,
            track=TrackBounds(
                max_yaw_speed=self.settings.liveness_max_yaw_speed,
                max_landmark_speed=self.settings.liveness_max_landmark_speed,
                min_box_overlap=self.settings.liveness_min_box_overlap,
                max_gap_s=self.settings.liveness_max_gap_s,
                # the verify threshold, not sign-in's: a real turning face drifts to 0.57 from its own
                # recognising frames (docs/face-signin.md); the track itself is what stops a swap
                same_face_threshold=self.engine.verify_threshold,
            ),
        )
        self.unknown_limit = FailureLimit(self.settings.login_max_failures, self.settings.login_window_min * 60.0)
        self._lock = threading.Lock()
        self.start()

    def start(self) -> None:
        """Begin a new attempt (first render, or "Try again"), with the gallery as enrolled now."""
        faces = gallery()
        with self._lock:
            self._gallery = faces
            self._decision = SigninDecision(self.rules, choose_moves=self.choose_moves)
            self._user: UserInfo | None = None
            self._override: Progress | None = None
            self._attempt = object()
            left = self.unknown_limit.seconds_left(time.monotonic())
            if left:
                signin_outcome("face", "locked")
                self._override = Progress(
                    Phase.LOCKED,
                    f"Too many faces were not recognised from this browser. Try again in {format_wait(left)}, "
                    "or sign in with your password.",
                )

    def status(self) -> Status:
        """Where the attempt stands; also lets a pending head-turn challenge time out without frames."""
        with self._lock:
            if self._override is not None:
                return Status(self._override)
            before = self._decision.progress.phase
            progress = self._decision.expire(time.monotonic())
            if progress.phase.finished and not before.finished:
                self._finish(progress)
            return Status(self._override or progress, self._user)

    def process(self, rgb: np.ndarray, arrived: float) -> Overlay:
        """One frame: engine, identification, decision; returns what to draw on the preview."""
        with self._lock:
            if self._override is not None or self._decision.progress.phase.finished:
                return self._overlay((), self._override or self._decision.progress)
            attempt, faces_gallery = self._attempt, self._gallery
        faces = self.engine.confident_faces(rgb)
        frame = FrameResult(arrived, face=False, hint="No face found: look at the camera.")
        if faces:
            main = main_face(faces)
            found = identify(
                main.embedding,
                faces_gallery.embeddings,
                faces_gallery.accounts,
                self.engine.signin_threshold,
                self.engine.signin_margin,
            )
            frame = FrameResult(
                arrived,
                face=True,
                good=main.quality.ok,
                hint=_hint(main.quality.reasons),
                account=found.label if main.quality.ok else None,
                distance=found.distance,
                sighting=sighting(faces, arrived),
            )
        with self._lock:
            if attempt is not self._attempt or self._override is not None:
                return self._overlay((), self._override or self._decision.progress)
            before = self._decision.progress.phase
            progress = self._decision.observe(frame)
            if progress.phase is Phase.CHALLENGE and before is Phase.LOOKING:
                self._refuse_if_locked()
            elif progress.phase.finished and not before.finished:
                self._finish(progress)
            shown = self._override or progress
        box = [(main_face(faces).detection.box, self._colour(frame, shown))] if faces else []
        return self._overlay(tuple(box), shown)

    def _refuse_if_locked(self) -> None:
        """A recognised account that is locked gets no head-turn challenge, as a password gets no check."""
        user = get_user(self._decision.account)
        left = lock_seconds_left(user.email) if user else 0
        if left:
            signin_outcome("face", "locked", user.id if user else None)
            self._override = Progress(Phase.LOCKED, str(AccountLocked(left)))

    def _finish(self, progress: Progress) -> None:
        """Settle a finished attempt with the accounts: sign in, or count one failure."""
        if progress.phase is Phase.NOT_RECOGNISED:
            signin_outcome("face", "no_match")
            self.unknown_limit.record(time.monotonic())
            return
        user = get_user(progress.account)
        if user is None:  # the account went away during the attempt
            signin_outcome("face", "unknown_account")
            self._override = Progress(Phase.NOT_RECOGNISED, "Not recognised. Sign in with your password.")
            return
        if progress.phase is Phase.LIVENESS_FAILED:
            signin_outcome("face", "liveness_failed", user.id)
            left = record_failure(user.email)
            if left:
                self._override = Progress(Phase.LOCKED, str(AccountLocked(left)))
            elif (tries := attempts_left(user.email)) and tries <= WARN_AT_ATTEMPTS:
                self._override = replace(progress, note=attempts_warning(tries))
            return
        left = lock_seconds_left(user.email)
        if left:
            signin_outcome("face", "locked", user.id)
            self._override = Progress(Phase.LOCKED, str(AccountLocked(left)))
            return
        signin_outcome("face", "ok", user.id)
        unlock(user.email)  # a successful sign-in forgets earlier failures, as with a password
        self._user = user

    @staticmethod
    def _colour(frame: FrameResult, shown: Progress) -> tuple[int, int, int]:
        if shown.phase in {Phase.SIGNED_IN, Phase.CHALLENGE} or frame.account is not None:
            return GREEN
        return RED if frame.good else AMBER

    @staticmethod
    def _overlay(boxes: tuple, progress: Progress) -> Overlay:
        move = progress.move
        captions = {
            Phase.LOOKING: f"Recognising {progress.votes}/{progress.needed}",
            Phase.CHALLENGE: f"{progress.step}/{progress.steps}: {move.prompt if move else ''}",
            Phase.SIGNED_IN: "Signed in",
            Phase.NOT_RECOGNISED: "Not recognised",
            Phase.LIVENESS_FAILED: "Head moves not seen",
            Phase.LOCKED: "Locked",
        }
        # the preview is mirrored, so the person's own left is the screen's left
        arrow = {Move.LEFT: -1, Move.RIGHT: 1}.get(move, 0) if move is not None else 0
        colour = GREEN if progress.phase in {Phase.SIGNED_IN, Phase.CHALLENGE} else AMBER
        return Overlay(
            boxes=boxes, caption=captions[progress.phase], colour=colour, arrow=arrow, centre=move is Move.CENTRE
        )
