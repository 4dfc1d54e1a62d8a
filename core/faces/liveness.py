"""Liveness by a random head turn: a still photo cannot turn its head on request.

The person is asked to turn their head to their left or right, picked at random after they are
recognised. The turn is read from the five landmarks (`head_yaw`: the nose's offset from the
eyes' midpoint along the eye line), measured against the yaw they had while being recognised,
and it only counts on frames whose face is the recognised one (embedding within the verify
threshold). A flat photo moved, tilted or rotated in front of the camera keeps its yaw, because
the nose and the eyes move together in the picture's plane; so it times out.

It does not stop a video of the person turning their head, a screen replaying them live, a 3D
mask, or a camera stream injected by software: those need depth or texture checks that a plain
webcam cannot give.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from core.faces.matching import distance

# Yaw change asked for: about 20 degrees of head turn; a still photo's yaw jitters by under 0.05.
TURN_DELTA = 0.25
# Consecutive turned frames of the same face needed, so one landmark glitch cannot pass it.
HOLD_FRAMES = 2


class Direction(StrEnum):
    """Which way the person turns, in their own terms (the camera sees them unmirrored)."""

    LEFT = "left"
    RIGHT = "right"

    @property
    def sign(self) -> int:
        """Sign of the yaw change: turning to one's own left moves the nose to the image's right (+)."""
        return 1 if self is Direction.LEFT else -1


def random_direction() -> Direction:
    """A direction nobody can predict, so a prepared video of one turn fails half the time at best."""
    return secrets.choice([Direction.LEFT, Direction.RIGHT])


class ChallengeState(StrEnum):
    PENDING = "pending"
    PASSED = "passed"
    TIMED_OUT = "timed_out"


@dataclass
class HeadTurnChallenge:
    """One challenge: the recognised face must turn `direction` by TURN_DELTA before `deadline`."""

    direction: Direction
    baseline_yaw: float
    reference: np.ndarray  # embedding of the recognised face
    same_face_threshold: float
    deadline: float  # monotonic seconds
    state: ChallengeState = ChallengeState.PENDING
    held: int = 0

    def observe(self, now: float, yaw: float | None, embedding: np.ndarray | None) -> ChallengeState:
        """Feed one frame's main face (None when the frame had none) and get the challenge's state."""
        if self.state is not ChallengeState.PENDING:
            return self.state
        if now > self.deadline:
            self.state = ChallengeState.TIMED_OUT
            return self.state
        if self.turned(yaw) and self.same_face(embedding):
            self.held += 1
        else:
            self.held = 0
        if self.held >= HOLD_FRAMES:
            self.state = ChallengeState.PASSED
        return self.state

    def expire(self, now: float) -> ChallengeState:
        """Time passes without frames (camera stopped, tab hidden): the deadline still holds."""
        if self.state is ChallengeState.PENDING and now > self.deadline:
            self.state = ChallengeState.TIMED_OUT
        return self.state

    def turned(self, yaw: float | None) -> bool:
        return yaw is not None and self.direction.sign * (yaw - self.baseline_yaw) >= TURN_DELTA

    def same_face(self, embedding: np.ndarray | None) -> bool:
        return embedding is not None and distance(embedding, self.reference) <= self.same_face_threshold

    def seconds_left(self, now: float) -> float:
        return max(self.deadline - now, 0.0)
