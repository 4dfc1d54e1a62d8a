"""Face sign-in decisions from per-frame results: K-of-N votes, then an optional head-turn challenge.

Pure logic, no engine and no database: the live sign-in (`core/face_live_signin.py`) reduces each
frame to a `FrameResult` and feeds it here, and tests feed hand-made sequences.

One attempt: only frames whose main face passes the quality verdict vote. Each vote is the
account `identify` returned under the sign-in threshold and margin, or None (unknown). As soon
as one account holds K of the last N votes it is recognised; if N votes came in and none did,
the attempt ends "not recognised", so an unknown face never drifts into someone's account.
With liveness on, the recognised face must then pass a head-turn challenge before the deadline.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from core.faces.liveness import ChallengeState, Direction, HeadTurnChallenge, random_direction


@dataclass(frozen=True)
class FrameResult:
    """One frame, reduced to what the decision needs."""

    at: float  # monotonic seconds when the frame arrived
    face: bool  # a face was found
    good: bool = False  # the main face passed the quality verdict
    hint: str = ""  # what to fix when there is no good face
    account: int | None = None  # identified under the sign-in threshold and margin; None is unknown
    distance: float = math.inf
    yaw: float | None = None  # the main face's yaw, whatever its quality (the challenge turns the head)
    embedding: np.ndarray | None = None  # the main face's embedding, whatever its quality


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
    liveness_timeout_s: float
    same_face_threshold: float  # challenge frames must be this close to the recognised face

    def __post_init__(self) -> None:
        if not 1 <= self.votes <= self.window:
            raise ValueError(f"face sign-in needs 1 <= votes ({self.votes}) <= window ({self.window})")


@dataclass(frozen=True)
class Progress:
    """What the page shows; `account` is set once recognised (never named on screen before success)."""

    phase: Phase
    message: str
    account: int | None = None
    votes: int = 0
    needed: int = 0
    direction: Direction | None = None
    seconds_left: float | None = None


@dataclass(frozen=True)
class _Vote:
    account: int | None
    yaw: float
    embedding: np.ndarray


@dataclass
class SigninDecision:
    """The state machine of one attempt; feed frames in arrival order."""

    rules: Rules
    choose_direction: Callable[[], Direction] = random_direction
    account: int | None = None  # the recognised account, once K of N votes agree
    challenge: HeadTurnChallenge | None = None
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
            self.challenge.observe(frame.at, frame.yaw, frame.embedding)
            return self._after_challenge(frame.at)
        if not frame.face or not frame.good or frame.embedding is None:
            hint = frame.hint or "Look at the camera."
            self.progress = Progress(Phase.LOOKING, hint, votes=self._best()[1], needed=self.rules.votes)
            return self.progress
        self._votes.append(_Vote(frame.account, frame.yaw or 0.0, frame.embedding))
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
        mine = [vote for vote in self._votes if vote.account == account]
        self.challenge = HeadTurnChallenge(
            direction=self.choose_direction(),
            baseline_yaw=statistics.median(vote.yaw for vote in mine),
            reference=mine[-1].embedding,
            same_face_threshold=self.rules.same_face_threshold,
            deadline=now + self.rules.liveness_timeout_s,
        )
        return self._after_challenge(now)

    def _after_challenge(self, now: float) -> Progress:
        challenge = self.challenge
        account = self.account
        assert challenge is not None
        if challenge.state is ChallengeState.PASSED:
            self.progress = Progress(Phase.SIGNED_IN, "Recognised, and the head turn was seen.", account=account)
        elif challenge.state is ChallengeState.TIMED_OUT:
            self.progress = Progress(
                Phase.LIVENESS_FAILED,
                "The head turn was not seen in time. Try again, or sign in with your password.",
                account=account,
            )
        else:
            left = challenge.seconds_left(now)
            self.progress = Progress(
                Phase.CHALLENGE,
                f"Recognised, now turn your head to your {challenge.direction} ({math.ceil(left)} s left).",
                account=account,
                direction=challenge.direction,
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
