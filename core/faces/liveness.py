"""Liveness by a random sequence of head moves, followed continuously from the recognised face.

After recognition the person is asked for at least two moves in an order nobody can predict
(e.g. left, back to centre, right), each within its own time. Each move is read from the
five-landmark yaw (`core.faces.quality.head_yaw`, filtered in `FaceTrack`) relative to the yaw
seen while recognising, and it counts only when:

- the same face is followed through every frame (`core.faces.face_track`: box overlap, landmark
  movement and yaw speed bounded per second, identity kept, no second face, no long loss);
- the yaw passes through intermediate values on the way (at least `MIN_BETWEEN` frames between
  the zone it left and the zone asked for) and then holds the asked zone for `HOLD_FRAMES`;
- it never enters the other side's zone: a video that shows every move in turn fails at its
  first move in the wrong order instead of waiting for the right one.

A still photo never moves (it times out); a slideshow or a photo alternating with its mirror
image changes pose by a cut, which breaks the track, and a broken track fails the attempt.
A video of the person doing the asked moves in the asked order is not stopped (docs/face-signin.md).
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from core.faces.face_track import FaceTrack, Sighting, TrackBounds, TrackBroken

# Yaw change a turn needs from the baseline: about 20 degrees; a still photo's yaw jitters by under 0.05.
TURN_DELTA = 0.25
# "Back to centre": within this of the baseline.
CENTRE_TOLERANCE = 0.1
# Consecutive frames in the asked zone, so one landmark glitch cannot complete a move.
HOLD_FRAMES = 2
# A move must be seen on its way: at least MIN_BETWEEN frames with a yaw between the zone left and
# the zone asked for, unless the last step into it was at most SKIP_STEP (a quick real turn seen
# at 10 frames a second can step over the 0.15-wide band; a photo and its mirror step 0.5 and more).
MIN_BETWEEN = 1
SKIP_STEP = 0.3
# Turning this far to the side not asked fails the attempt (further than TURN_DELTA: a restless
# head sways by 0.25 around its centre in the real clip; a deliberate turn goes past 0.4).
WRONG_TURN = 0.4


class Move(StrEnum):
    """One step of the challenge, in the person's own terms (the camera sees them unmirrored)."""

    LEFT = "left"
    RIGHT = "right"
    CENTRE = "centre"

    @property
    def sign(self) -> int:
        """Side of the yaw change: turning to one's own left moves the nose to the image's right (+)."""
        return {Move.LEFT: 1, Move.RIGHT: -1, Move.CENTRE: 0}[self]

    @property
    def prompt(self) -> str:
        return "look straight at the camera again" if self is Move.CENTRE else f"turn your head to your {self}"

    def zone(self, delta: float = TURN_DELTA, tolerance: float = CENTRE_TOLERANCE) -> tuple[float, float]:
        """The yaw interval, relative to the baseline, that this move asks for."""
        return {Move.LEFT: (delta, math.inf), Move.RIGHT: (-math.inf, -delta), Move.CENTRE: (-tolerance, tolerance)}[
            self
        ]


def random_moves(count: int) -> tuple[Move, ...]:
    """`count` moves, each different from the position before it, starting from the centre.

    With 3 moves there are 8 sequences, so a prepared video of one sequence passes 1 time in 8,
    and a video of every move in turn fails at the first one out of order.
    """
    moves, here = [], Move.CENTRE
    for _ in range(count):
        here = secrets.choice([move for move in Move if move is not here])
        moves.append(here)
    return tuple(moves)


class ChallengeState(StrEnum):
    PENDING = "pending"
    PASSED = "passed"
    TIMED_OUT = "timed_out"
    BROKEN = "broken"  # a cut, a jump, a lost face, a second face, a wrong move


@dataclass
class HeadMoveChallenge:
    """One challenge: `moves` in order, each within `move_timeout_s`, by one face followed throughout."""

    moves: tuple[Move, ...]
    baseline_yaw: float
    track: FaceTrack
    move_timeout_s: float
    state: ChallengeState = ChallengeState.PENDING
    reason: str = ""  # why the track broke
    step: int = 0  # index of the move asked now
    deadline: float = field(init=False)
    _between: int = 0
    _held: int = 0
    _relative: float = 0.0  # the last filtered yaw, relative to the baseline

    def __post_init__(self) -> None:
        if len(self.moves) < 1:
            raise ValueError("a head-move challenge needs at least one move")
        self.deadline = self.track.start.at + self.move_timeout_s

    @classmethod
    def start(
        cls, moves: tuple[Move, ...], start: Sighting, references: np.ndarray, baseline_yaw: float,
        bounds: TrackBounds, move_timeout_s: float,
    ) -> HeadMoveChallenge:
        """A challenge whose track begins at `start`, the last frame of the recognition.

        That frame is the first of the first move: a person may already be on the way when the
        votes complete, and it has no frame before it to be a cut from."""
        challenge = cls(moves, baseline_yaw, FaceTrack(bounds, references, start), move_timeout_s)
        challenge._advance(start.yaw - baseline_yaw, start.at, first=True)
        return challenge

    @property
    def move(self) -> Move:
        return self.moves[min(self.step, len(self.moves) - 1)]

    def observe(self, now: float, sighting: Sighting | None) -> ChallengeState:
        """Feed one analysed frame's main face (None when it had none) and get the challenge's state."""
        if self.state is not ChallengeState.PENDING or self.expire(now) is not ChallengeState.PENDING:
            return self.state
        if sighting is None:
            if self.track.lost(now):
                self._break(f"the face was lost for more than {self.track.bounds.max_gap_s:g} s")
            return self.state
        try:
            yaw = self.track.follow(sighting)
        except TrackBroken as broken:
            self._break(str(broken))
            return self.state
        self._advance(yaw - self.baseline_yaw, now)
        return self.state

    def expire(self, now: float) -> ChallengeState:
        """Time passes without frames (camera stopped, tab hidden): the move's deadline still holds."""
        if self.state is ChallengeState.PENDING and now > self.deadline:
            self.state = ChallengeState.TIMED_OUT
        return self.state

    def seconds_left(self, now: float) -> float:
        return max(self.deadline - now, 0.0)

    def _advance(self, relative: float, now: float, first: bool = False) -> None:
        previous = self.moves[self.step - 1] if self.step else Move.CENTRE
        target = self.move
        other = {Move.LEFT, Move.RIGHT} - {previous, target}
        if any(_inside(relative, move.zone(delta=WRONG_TURN)) for move in other):
            self._break(f"the head turned to the {other.pop()}, not as asked")
            return
        step, self._relative = abs(relative - self._relative), relative
        if _inside(relative, target.zone()):
            if self._between < MIN_BETWEEN and not self._held and not first and step > SKIP_STEP:
                self._break("the pose changed at once instead of turning (a cut, not a head turn)")
                return
            self._held += 1
        else:
            self._held = 0
            if not _inside(relative, previous.zone()):
                self._between += 1
        if self._held >= HOLD_FRAMES:
            self.step += 1
            self._between = self._held = 0
            self.deadline = now + self.move_timeout_s
            if self.step == len(self.moves):
                self.state = ChallengeState.PASSED

    def _break(self, reason: str) -> None:
        self.state, self.reason = ChallengeState.BROKEN, reason


def _inside(value: float, zone: tuple[float, float]) -> bool:
    return zone[0] <= value <= zone[1]
