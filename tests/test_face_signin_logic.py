"""Face sign-in decisions from hand-made frame sequences: votes, margin, unknown, head moves, tracking, timeouts."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from core.face_signin.decision import FailureLimit, FrameResult, Phase, Rules, SigninDecision
from core.faces.face_track import Sighting, TrackBounds
from core.faces.liveness import Move
from core.faces.matching import identify

ALICE, BOB = 1, 2
RNG = np.random.default_rng(7)
ALICE_FACE = RNG.normal(size=128).astype(np.float32) * 0.05
BOB_FACE = ALICE_FACE + 0.2
STRANGER_FACE = ALICE_FACE - 0.2
BOUNDS = TrackBounds(
    max_yaw_speed=2.5, max_landmark_speed=2.0, min_box_overlap=0.2, max_gap_s=1.0, same_face_threshold=0.6
)
LEFT_CENTRE_RIGHT = (Move.LEFT, Move.CENTRE, Move.RIGHT)


def rules(votes: int = 5, window: int = 8, liveness: bool = False, timeout: float = 8.0) -> Rules:
    return Rules(votes=votes, window=window, liveness=liveness, liveness_timeout_s=timeout, track=BOUNDS)


def sight(at: float, yaw: float = 0.0, face: np.ndarray = ALICE_FACE, x: float = 0.0, faces: int = 1) -> Sighting:
    """A face whose five landmarks give `yaw` (nose offset along the eye line, in half eye spans)."""
    points = np.array([[300, 200], [340, 200], [320 + 20 * yaw, 225], [305, 250], [335, 250]], float)
    return Sighting(at, (280 + x, 160, 360 + x, 270), points + np.array([x, 0.0]), face, faces=faces)


def good(at: float, account: int | None, face: np.ndarray = ALICE_FACE, yaw: float = 0.0) -> FrameResult:
    return FrameResult(at, face=True, good=True, account=account, distance=0.3, sighting=sight(at, yaw, face))


def turned(at: float, yaw: float, face: np.ndarray = ALICE_FACE, **where: float) -> FrameResult:
    """A challenge frame: turned heads fail the quality verdict, which the challenge does not need."""
    return FrameResult(at, face=True, good=False, hint="head turned too far", sighting=sight(at, yaw, face, **where))


def feed(decision: SigninDecision, frames: list[FrameResult]) -> list[Phase]:
    return [decision.observe(frame).phase for frame in frames]


def recognised_alice(decision: SigninDecision, start: float = 0.0) -> float:
    """Five votes for Alice; returns the time of the last one."""
    phases = feed(decision, [good(start + i * 0.1, ALICE) for i in range(5)])
    assert phases[-1] is Phase.CHALLENGE
    return start + 0.4


def glide(start: float, yaws: list[float], step_s: float = 0.1) -> list[FrameResult]:
    return [turned(start + step_s * (i + 1), yaw) for i, yaw in enumerate(yaws)]


# a real turn: left, back to centre, right, through intermediate values at about 1 yaw per second
SMOOTH = [0.1, 0.2, 0.3, 0.35, 0.35, 0.25, 0.15, 0.05, 0.0, 0.0, -0.1, -0.2, -0.3, -0.35, -0.35]


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
    dark = FrameResult(0.0, face=True, good=False, hint="Too dark: add light.", sighting=sight(0.0))
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


def test_left_centre_right_done_smoothly_signs_in() -> None:
    decision = SigninDecision(rules(liveness=True), choose_moves=lambda count: LEFT_CENTRE_RIGHT)
    at = recognised_alice(decision)
    assert decision.progress.message.startswith("Recognised, now turn your head to your left (step 1 of 3")
    assert (decision.progress.move, decision.progress.account) == (Move.LEFT, ALICE)
    phases = feed(decision, glide(at, SMOOTH))
    assert phases[-1] is Phase.SIGNED_IN
    assert phases[:-1] == [Phase.CHALLENGE] * (len(SMOOTH) - 1)


def test_each_move_is_asked_in_turn_with_its_own_time() -> None:
    decision = SigninDecision(rules(liveness=True, timeout=2.0), choose_moves=lambda count: LEFT_CENTRE_RIGHT)
    at = recognised_alice(decision)
    feed(decision, glide(at, SMOOTH[:5]))
    assert decision.progress.move is Move.CENTRE and decision.progress.step == 2
    assert decision.progress.message.startswith("Now look straight at the camera again (step 2 of 3, 2 s left)")
    feed(decision, glide(at + 0.5, [0.35] * 15))  # 1.5 s more: within the second move's own 2 s
    assert decision.progress.phase is Phase.CHALLENGE
    assert decision.expire(at + 2.6).phase is Phase.LIVENESS_FAILED


def test_turning_the_other_way_fails_at_once() -> None:
    """A video showing every move in turn must not wait in the wrong place for the asked one."""
    decision = SigninDecision(rules(liveness=True), choose_moves=lambda count: LEFT_CENTRE_RIGHT)
    at = recognised_alice(decision)
    phases = feed(decision, glide(at, [-0.1, -0.2, -0.3, -0.45, -0.5, -0.5]))
    assert phases[-1] is Phase.LIVENESS_FAILED
    assert "the head turned to the right, not as asked" in decision.progress.message
    assert decision.progress.account == ALICE  # the failure counts against this account


def test_a_jump_in_yaw_fails_like_a_cut() -> None:
    """A photo swapped for its mirror image: yaw -0.3 to +0.3 between two frames 0.1 s apart."""
    decision = SigninDecision(rules(liveness=True), choose_moves=lambda count: LEFT_CENTRE_RIGHT)
    phases = feed(decision, [good(i * 0.1, ALICE, yaw=-0.3) for i in range(5)])
    assert phases[-1] is Phase.CHALLENGE
    phases = feed(decision, glide(0.4, [0.3, 0.3, 0.3]))
    assert phases[-1] is Phase.LIVENESS_FAILED
    assert "faster than a head can" in decision.progress.message


def test_reaching_the_asked_side_in_one_big_step_fails() -> None:
    """No frame between centre and the side: the pose changed at once (a slideshow's cut)."""
    decision = SigninDecision(rules(liveness=True), choose_moves=lambda count: LEFT_CENTRE_RIGHT)
    at = recognised_alice(decision)
    phases = feed(decision, glide(at, [0.0, 0.0, 0.35, 0.35], step_s=0.2))
    assert phases[-1] is Phase.LIVENESS_FAILED
    assert "changed at once" in decision.progress.message


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (lambda at: turned(at, 0.1, face=STRANGER_FACE), "the face changed to someone else's"),
        (lambda at: turned(at, 0.1, x=200.0), "the face jumped to another place"),
        (lambda at: FrameResult(at, True, sighting=sight(at, 0.1, faces=2)), "a second face came into view"),
        (lambda at: turned(at + 1.5, 0.1), "the face was lost for 1.6 s"),
    ],
    ids=["other-person", "moved-away", "second-face", "lost"],
)
def test_anything_but_one_face_followed_throughout_fails(frame, reason: str) -> None:
    decision = SigninDecision(rules(liveness=True), choose_moves=lambda count: LEFT_CENTRE_RIGHT)
    at = recognised_alice(decision)
    assert decision.observe(frame(at + 0.1)).phase is Phase.LIVENESS_FAILED
    assert reason in decision.progress.message
    assert decision.progress.message.endswith("Try again, or sign in with your password.")


def test_frames_without_a_face_for_longer_than_the_gap_fail() -> None:
    decision = SigninDecision(rules(liveness=True), choose_moves=lambda count: LEFT_CENTRE_RIGHT)
    at = recognised_alice(decision)
    empty = [FrameResult(at + 0.1 * (i + 1), face=False) for i in range(12)]
    phases = feed(decision, empty)
    assert phases[:9] == [Phase.CHALLENGE] * 9  # up to a second without the face is a blink, not a cut
    assert phases[-1] is Phase.LIVENESS_FAILED and "the face was lost" in decision.progress.message


def test_still_photo_fails_the_challenge() -> None:
    """A photo's yaw only jitters around where it was during recognition."""
    decision = SigninDecision(rules(liveness=True, timeout=3.0), choose_moves=lambda count: LEFT_CENTRE_RIGHT)
    at = recognised_alice(decision)
    jitter = np.random.default_rng(1).normal(0.0, 0.03, size=70)
    phases = feed(decision, [turned(at + 0.05 * (i + 1), float(y)) for i, y in enumerate(jitter)])
    assert phases[-1] is Phase.LIVENESS_FAILED
    assert decision.progress.message == "The head turn was not seen in time. Try again, or sign in with your password."


def test_turn_is_measured_from_the_yaw_seen_while_recognised() -> None:
    """A face recognised already turned 0.2 must turn further: yaw 0.35 is not a 0.25 turn from 0.2."""
    decision = SigninDecision(rules(liveness=True), choose_moves=lambda count: LEFT_CENTRE_RIGHT)
    phases = feed(decision, [good(i * 0.1, ALICE, yaw=0.2) for i in range(5)])
    assert phases[-1] is Phase.CHALLENGE
    assert feed(decision, glide(0.4, [0.25, 0.3, 0.35, 0.35, 0.35]))[-1] is Phase.CHALLENGE
    assert decision.progress.move is Move.LEFT
    feed(decision, glide(0.9, [0.4, 0.5, 0.5, 0.5]))
    assert decision.progress.move is Move.CENTRE


def test_challenge_times_out_without_any_frame() -> None:
    decision = SigninDecision(rules(liveness=True, timeout=8.0), choose_moves=lambda count: LEFT_CENTRE_RIGHT)
    at = recognised_alice(decision)
    assert decision.expire(at + 7.9).phase is Phase.CHALLENGE
    assert decision.progress.seconds_left == pytest.approx(0.1, abs=1e-6)
    assert decision.expire(at + 8.01).phase is Phase.LIVENESS_FAILED
    assert decision.observe(turned(at + 8.1, 0.9)).phase is Phase.LIVENESS_FAILED


def test_a_challenge_has_at_least_two_moves() -> None:
    with pytest.raises(ValueError, match="at least 2 moves"):
        Rules(votes=5, window=8, liveness=True, liveness_timeout_s=8, track=BOUNDS, moves=1)


def test_random_moves_never_repeat_the_position_and_start_away_from_centre() -> None:
    from core.faces.liveness import random_moves

    seen = {random_moves(3) for _ in range(400)}
    assert len(seen) == 8
    for moves in seen:
        assert moves[0] is not Move.CENTRE
        assert all(a is not b for a, b in itertools.pairwise(moves))


def test_without_liveness_there_is_no_challenge() -> None:
    decision = SigninDecision(rules(liveness=False), choose_moves=lambda count: pytest.fail("no challenge expected"))
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
