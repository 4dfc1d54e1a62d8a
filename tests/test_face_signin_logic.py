"""Face sign-in decisions from hand-made frame sequences: votes, margin, unknown, head turn, timeouts."""

from __future__ import annotations

import numpy as np
import pytest

from core.face_signin.decision import FailureLimit, FrameResult, Phase, Rules, SigninDecision
from core.faces.liveness import HOLD_FRAMES, TURN_DELTA, Direction
from core.faces.matching import identify

ALICE, BOB = 1, 2
RNG = np.random.default_rng(7)
ALICE_FACE = RNG.normal(size=128).astype(np.float32) * 0.05
BOB_FACE = ALICE_FACE + 0.2
STRANGER_FACE = ALICE_FACE - 0.2


def rules(votes: int = 5, window: int = 8, liveness: bool = False, timeout: float = 8.0) -> Rules:
    return Rules(votes=votes, window=window, liveness=liveness, liveness_timeout_s=timeout, same_face_threshold=0.6)


def good(at: float, account: int | None, face: np.ndarray = ALICE_FACE, yaw: float = 0.0) -> FrameResult:
    return FrameResult(at, face=True, good=True, account=account, distance=0.3, yaw=yaw, embedding=face)


def turned(at: float, yaw: float, face: np.ndarray = ALICE_FACE) -> FrameResult:
    """A challenge frame: turned heads fail the quality verdict, which the challenge does not need."""
    return FrameResult(at, face=True, good=False, hint="head turned too far", yaw=yaw, embedding=face)


def feed(decision: SigninDecision, frames: list[FrameResult]) -> list[Phase]:
    return [decision.observe(frame).phase for frame in frames]


def recognised_alice(decision: SigninDecision, start: float = 0.0) -> float:
    """Five votes for Alice; returns the time of the last one."""
    phases = feed(decision, [good(start + i * 0.1, ALICE) for i in range(5)])
    assert phases[-1] is Phase.CHALLENGE
    return start + 0.4


def test_k_of_n_signs_in_on_the_kth_vote_despite_stray_frames() -> None:
    decision = SigninDecision(rules())
    accounts = [ALICE, None, ALICE, BOB, ALICE, ALICE, ALICE]
    phases = feed(decision, [good(i * 0.1, a) for i, a in enumerate(accounts)])
    assert phases[:-1] == [Phase.LOOKING] * 6
    assert phases[-1] is Phase.SIGNED_IN
    assert decision.progress.account == ALICE


def test_progress_counts_votes_of_the_leading_account() -> None:
    decision = SigninDecision(rules())
    feed(decision, [good(0.0, ALICE), good(0.1, BOB), good(0.2, ALICE)])
    assert (decision.progress.votes, decision.progress.needed) == (2, 5)
    assert decision.progress.account is None  # never named before the decision


def test_split_votes_end_not_recognised_after_n_frames() -> None:
    decision = SigninDecision(rules())
    accounts = [ALICE, BOB, ALICE, BOB, ALICE, BOB, ALICE, BOB]
    phases = feed(decision, [good(i * 0.1, a) for i, a in enumerate(accounts)])
    assert phases[-1] is Phase.NOT_RECOGNISED
    assert decision.progress.account is None


def test_unknown_face_is_not_recognised_never_someone_else() -> None:
    decision = SigninDecision(rules())
    phases = feed(decision, [good(i * 0.1, None, STRANGER_FACE) for i in range(8)])
    assert phases == [Phase.LOOKING] * 7 + [Phase.NOT_RECOGNISED]
    # once decided, more frames change nothing, not even a perfect match
    assert decision.observe(good(1.0, ALICE)).phase is Phase.NOT_RECOGNISED


def test_frames_without_a_good_face_do_not_vote_and_say_what_to_fix() -> None:
    decision = SigninDecision(rules())
    dark = FrameResult(0.0, face=True, good=False, hint="Too dark: add light.", yaw=0.0, embedding=ALICE_FACE)
    empty = FrameResult(0.1, face=False, hint="No face found: look at the camera.")
    for i in range(20):
        progress = decision.observe(dark if i % 2 else empty)
    assert progress.phase is Phase.LOOKING
    assert progress.message == "Too dark: add light."
    assert feed(decision, [good(3 + i * 0.1, ALICE) for i in range(5)])[-1] is Phase.SIGNED_IN


def test_margin_turns_a_near_tie_into_unknown() -> None:
    """`identify` with the configured margin: a face between two accounts votes for nobody."""
    gallery = np.stack([ALICE_FACE, BOB_FACE])
    between = (ALICE_FACE + BOB_FACE) / 2 + 0.001
    near_tie = identify(between, gallery, [ALICE, BOB], threshold=1.5, margin=0.08)
    assert near_tie.label is None and near_tie.runner_up is not None
    clear = identify(ALICE_FACE, gallery, [ALICE, BOB], threshold=1.5, margin=0.08)
    assert clear.label == ALICE
    decision = SigninDecision(rules())
    assert feed(decision, [good(i * 0.1, near_tie.label) for i in range(8)])[-1] is Phase.NOT_RECOGNISED


def test_votes_and_window_must_make_sense() -> None:
    with pytest.raises(ValueError, match="votes"):
        rules(votes=9, window=8)


@pytest.mark.parametrize(("direction", "sign"), [(Direction.LEFT, 1), (Direction.RIGHT, -1)])
def test_challenge_passed_by_turning_the_asked_way(direction: Direction, sign: int) -> None:
    decision = SigninDecision(rules(liveness=True), choose_direction=lambda: direction)
    at = recognised_alice(decision)
    assert decision.progress.direction is direction
    assert f"turn your head to your {direction}" in decision.progress.message
    assert decision.progress.account == ALICE
    yaws = [sign * 0.05, sign * 0.15] + [sign * (TURN_DELTA + 0.05)] * HOLD_FRAMES
    phases = feed(decision, [turned(at + 0.1 * (i + 1), y) for i, y in enumerate(yaws)])
    assert phases[-1] is Phase.SIGNED_IN
    assert phases[:-1] == [Phase.CHALLENGE] * (len(yaws) - 1)


def test_challenge_ignores_the_wrong_way_and_times_out() -> None:
    decision = SigninDecision(rules(liveness=True, timeout=2.0), choose_direction=lambda: Direction.LEFT)
    at = recognised_alice(decision)
    phases = feed(decision, [turned(at + 0.2 * (i + 1), -0.5) for i in range(9)])
    assert set(phases) == {Phase.CHALLENGE}
    assert decision.observe(turned(at + 2.1, 0.6)).phase is Phase.LIVENESS_FAILED
    assert decision.progress.account == ALICE  # the failure counts against this account


def test_still_photo_fails_the_challenge() -> None:
    """A photo's yaw only jitters around where it was during recognition."""
    decision = SigninDecision(rules(liveness=True, timeout=3.0), choose_direction=lambda: Direction.RIGHT)
    at = recognised_alice(decision)
    jitter = np.random.default_rng(1).normal(0.0, 0.03, size=70)
    phases = feed(decision, [good(at + 0.05 * (i + 1), ALICE, yaw=float(y)) for i, y in enumerate(jitter)])
    assert phases[-1] is Phase.LIVENESS_FAILED
    assert Phase.SIGNED_IN not in phases


def test_turn_is_measured_from_the_yaw_seen_while_recognised() -> None:
    """A face recognised already turned 0.2 must turn further: yaw 0.3 is not a 0.25 turn from 0.2."""
    decision = SigninDecision(rules(liveness=True), choose_direction=lambda: Direction.LEFT)
    phases = feed(decision, [good(i * 0.1, ALICE, yaw=0.2) for i in range(5)])
    assert phases[-1] is Phase.CHALLENGE
    assert feed(decision, [turned(1 + i * 0.1, 0.3) for i in range(5)])[-1] is Phase.CHALLENGE
    assert feed(decision, [turned(2 + i * 0.1, 0.5) for i in range(HOLD_FRAMES)])[-1] is Phase.SIGNED_IN


def test_challenge_must_be_done_by_the_same_face() -> None:
    decision = SigninDecision(rules(liveness=True, timeout=2.0), choose_direction=lambda: Direction.LEFT)
    at = recognised_alice(decision)
    swapped = [turned(at + 0.1 * (i + 1), 0.5, face=STRANGER_FACE) for i in range(10)]
    assert set(feed(decision, swapped)) == {Phase.CHALLENGE}
    # one turned frame of the stranger between Alice's turned frames breaks the hold
    mixed = [turned(at + 1.1, 0.5), turned(at + 1.2, 0.5, face=STRANGER_FACE), turned(at + 1.3, 0.5)]
    assert feed(decision, mixed)[-1] is Phase.CHALLENGE
    assert decision.observe(turned(at + 1.4, 0.5)).phase is Phase.SIGNED_IN


def test_challenge_times_out_without_any_frame() -> None:
    decision = SigninDecision(rules(liveness=True, timeout=8.0), choose_direction=lambda: Direction.LEFT)
    at = recognised_alice(decision)
    assert decision.expire(at + 7.9).phase is Phase.CHALLENGE
    assert decision.progress.seconds_left == pytest.approx(0.1, abs=1e-6)
    assert decision.expire(at + 8.01).phase is Phase.LIVENESS_FAILED
    assert decision.observe(turned(at + 8.1, 0.9)).phase is Phase.LIVENESS_FAILED


def test_without_liveness_there_is_no_challenge() -> None:
    decision = SigninDecision(rules(liveness=False), choose_direction=lambda: pytest.fail("no challenge expected"))
    assert feed(decision, [good(i * 0.1, BOB) for i in range(5)])[-1] is Phase.SIGNED_IN
    assert decision.progress.account == BOB


def test_session_failure_limit_locks_after_max_failures_in_the_window() -> None:
    limit = FailureLimit(max_failures=3, window_s=60.0)
    for at in (0.0, 10.0):
        limit.record(at)
    assert limit.seconds_left(11.0) == 0
    limit.record(20.0)
    assert limit.seconds_left(21.0) == 59  # one window from the last failure
    assert limit.seconds_left(80.5) == 0


def test_session_failure_limit_ignores_failures_spread_over_more_than_a_window() -> None:
    limit = FailureLimit(max_failures=3, window_s=60.0)
    for at in (0.0, 50.0, 100.0):
        limit.record(at)
    assert limit.seconds_left(100.0) == 0
