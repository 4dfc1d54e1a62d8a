"""The distance thresholds calibrated for each embedder.

Thresholds belong to an embedder: distances from different models are not comparable. The
defaults below were calibrated on labelled pairs (see README, "Face matching thresholds");
WEBTUBE_VERIFY_THRESHOLD, WEBTUBE_SIGNIN_THRESHOLD and WEBTUBE_SIGNIN_MARGIN override them.
Kept free of torch: the studio's command line and pages read them without loading a model.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Thresholds:
    """Euclidean distance limits: verify decides "same person", sign-in is stricter, and a sign-in winner
    must be `margin` closer than the runner-up account (in the model's own distance units)."""

    verify: float
    signin: float
    margin: float


# Margins: dlib's 0.08 scaled by each model's verify threshold (its distances' scale). On the people photos,
# leave-one-out 1:N, every correct identification wins by 0.186 or more with dlib and 0.414 or more with SFace.
CALIBRATED = {
    "dlib": Thresholds(verify=0.6, signin=0.5, margin=0.08),
    "facenet": Thresholds(verify=1.0, signin=0.85, margin=0.13),
    # Unit vectors: distance sqrt(2 - 2 cos). The Zoo's cosine 0.363 is distance 1.129.
    "sface": Thresholds(verify=1.129, signin=0.85, margin=0.15),
}
