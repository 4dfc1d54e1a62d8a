"""A face-quality reason (core.faces.quality's short, measured words) said as a sentence for the person in view.

The quality check speaks in measurements ("too small (59px wide, needs 60px): come closer"), right for
logs and the studio; a person at a camera needs what to do, so each reason maps to a plain sentence.
"""

from __future__ import annotations

_SPOKEN = (
    ("too small", "Your face is too far away: come a little closer to the camera."),
    ("cut by the image edge", "Part of your face is out of the picture: move to the middle."),
    ("low detection score", "Your face is hard to make out: face the camera in good light."),
    ("blurred", "The picture is blurred: hold still for a moment, or add light."),
    ("too dark", "It is too dark: turn on a light in front of you."),
    ("head turned too far", "Your head is turned too far: look straight at the camera."),
)


def spoken(reason: str) -> str:
    """The sentence for one quality reason; an unknown reason is kept, as a sentence."""
    for start, sentence in _SPOKEN:
        if reason.startswith(start):
            return sentence
    text = reason.strip().rstrip(".")
    return text[:1].upper() + text[1:] + "." if text else "Look at the camera."
