"""Face sign-in decisions from per-frame results: K-of-N votes, then an optional head-turn challenge.

Pure logic, no engine and no database: the live sign-in (`core/face_signin/live.py`) reduces each
frame to a `FrameResult` and feeds it here, and tests feed hand-made sequences or real frames.

One attempt: only frames whose main face passes the quality verdict vote. Each vote is the
account `identify` returned under the sign-in threshold and margin, or None (unknown). As soon
as one account holds K of the last N votes it is recognised; if N votes came in and none did,
the attempt ends "not recognised", so an unknown face never drifts into someone's account.
With liveness on, the recognised face must then do a random sequence of head moves, followed
frame by frame from the last recognising frame (`core/faces/liveness.py`); a cut, a jump, a lost
face or a second face fails the attempt at once.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from core.faces.face_track import Sighting, TrackBounds
from core.faces.liveness import ChallengeState, HeadMoveChallenge, Move, random_moves


@dataclass(frozen=True)
class FrameResult:
    """One frame, reduced to what the decision needs."""

    at: float  # monotonic seconds when the frame arrived
    face: bool  # a face was found
    good: bool = False  # the main face passed the quality verdict
    hint: str = ""  # what to fix when there is no good face
    account: int | None = None  # identified under the sign-in threshold and margin; None is unknown
    distance: float = math.inf
    sighting: Sighting | None = None  # the main face, whatever its quality (the challenge turns the head)


class Phase(StrEnum):
    LOOKING = "looking"
    CHALLENGE = "challenge"
    SIGNED_IN = "signed_in"
    NOT_RECOGNISED = "not_recognised"
    LIVENESS_FAILED = "liveness_failed"
    LOCKED = "locked"  # set by the live sign-in: too many failures for the account or this browser

    @property
    def finished(self) -> bool:
        return self not in {Phase.LOOKING, Phase.CHALLENGE}


@dataclass(frozen=True)
class Rules:
    """The knobs of one attempt (from `core.config` settings and the engine's verify threshold)."""

    votes: int  # K
    window: int  # N
    liveness: bool
    liveness_timeout_s: float  # for each move of the challenge
    track: TrackBounds  # how the face is followed through the challenge
    moves: int = 3  # moves in the challenge

    def __post_init__(self) -> None:
        if not 1 <= self.votes <= self.window:
            raise ValueError(f"face sign-in needs 1 <= votes ({self.votes}) <= window ({self.window})")
        if self.moves < 2:
            raise ValueError(f"the head-move challenge needs at least 2 moves, not {self.moves}")


@dataclass(frozen=True)
class Progress:
    """What the page shows; `account` is set once recognised (never named on screen before success)."""

    phase: Phase
    message: str
    account: int | None = None
    votes: int = 0
    needed: int = 0
    move: Move | None = None  # the move asked now
    step: int = 0  # 1-based number of that move
    steps: int = 0
    seconds_left: float | None = None
    note: str | None = None  # said under the message: how many attempts are left before the lock


@dataclass(frozen=True)
class _Vote:
    account: int | None
    sighting: Sighting


@dataclass
class SigninDecision:
    """The state machine of one attempt; feed frames in arrival order."""

    rules: Rules
    choose_moves: Callable[[int], tuple[Move, ...]] = random_moves
    account: int | None = None  # the recognised account, once K of N votes agree
    challenge: HeadMoveChallenge | None = None
    progress: Progress = field(init=False)
    _votes: deque[_Vote] = field(init=False)

    def __post_init__(self) -> None:
        self._votes = deque(maxlen=self.rules.window)
        self.progress = Progress(Phase.LOOKING, "Look at the camera.", needed=self.rules.votes)

    def observe(self, frame: FrameResult) -> Progress:
        """Take one frame into account and return where the attempt stands."""
        if self.progress.phase.finished:
            return self.progress
        if self.challenge is not None:
            self.challenge.observe(frame.at, frame.sighting)
            return self._after_challenge(frame.at)
        if not frame.face or not frame.good or frame.sighting is None:
            hint = frame.hint or "Look at the camera."
            self.progress = Progress(Phase.LOOKING, hint, votes=self._best()[1], needed=self.rules.votes)
            return self.progress
        self._votes.append(_Vote(frame.account, frame.sighting))
        leader, count = self._best()
        if leader is not None and count >= self.rules.votes:
            return self._recognised(leader, frame.at)
        if len(self._votes) == self.rules.window:
            self.progress = Progress(Phase.NOT_RECOGNISED, "Not recognised. Sign in with your password, or try again.")
            return self.progress
        self.progress = Progress(Phase.LOOKING, "Hold still, recognising…", votes=count, needed=self.rules.votes)
        return self.progress

    def expire(self, now: float) -> Progress:
        """Let time pass with no frame (the page polls this), so a stalled challenge still times out."""
        if self.challenge is not None and not self.progress.phase.finished:
            self.challenge.expire(now)
            return self._after_challenge(now)
        return self.progress

    def _best(self) -> tuple[int | None, int]:
        counts = Counter(vote.account for vote in self._votes if vote.account is not None)
        if not counts:
            return None, 0
        return counts.most_common(1)[0]

    def _recognised(self, account: int, now: float) -> Progress:
        self.account = account
        if not self.rules.liveness:
            self.progress = Progress(Phase.SIGNED_IN, "Recognised.", account=account)
            return self.progress
        mine = [vote.sighting for vote in self._votes if vote.account == account]
        self.challenge = HeadMoveChallenge.start(
            moves=self.choose_moves(self.rules.moves),
            start=self._votes[-1].sighting,
            references=np.stack([sighting.embedding for sighting in mine]),
            baseline_yaw=statistics.median(sighting.yaw for sighting in mine),
            bounds=self.rules.track,
            move_timeout_s=self.rules.liveness_timeout_s,
        )
        return self._after_challenge(now)

    def _after_challenge(self, now: float) -> Progress:
        challenge = self.challenge
        account = self.account
        assert challenge is not None
        if challenge.state is ChallengeState.PASSED:
            self.progress = Progress(Phase.SIGNED_IN, "Recognised, and the head moves were seen.", account=account)
        elif challenge.state is ChallengeState.TIMED_OUT:
            self.progress = Progress(
                Phase.LIVENESS_FAILED,
                "The head turn was not seen in time. Try again, or sign in with your password.",
                account=account,
            )
        elif challenge.state is ChallengeState.BROKEN:
            self.progress = Progress(
                Phase.LIVENESS_FAILED,
                f"The head moves were not continuous: {challenge.reason}. Try again, or sign in with your password.",
                account=account,
            )
        else:
            left, steps = challenge.seconds_left(now), len(challenge.moves)
            lead = "Recognised, now" if challenge.step == 0 else "Now"
            self.progress = Progress(
                Phase.CHALLENGE,
                f"{lead} {challenge.move.prompt} (step {challenge.step + 1} of {steps}, {math.ceil(left)} s left).",
                account=account,
                move=challenge.move,
                step=challenge.step + 1,
                steps=steps,
                seconds_left=left,
            )
        return self.progress


@dataclass
class FailureLimit:
    """Failed attempts of one browser session (unknown faces have no email to lock).

    Same rule as the password lockout: locked when the last `max_failures` fell within one
    window, for one window from the last of them.
    """

    max_failures: int
    window_s: float
    _failures: deque[float] = field(init=False)

    def __post_init__(self) -> None:
        self._failures = deque(maxlen=max(self.max_failures, 1))

    def record(self, now: float) -> None:
        self._failures.append(now)

    def seconds_left(self, now: float) -> int:
        if len(self._failures) < self.max_failures or self._failures[-1] - self._failures[0] > self.window_s:
            return 0
        return max(math.ceil(self._failures[-1] + self.window_s - now), 0)
