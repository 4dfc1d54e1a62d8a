"""Why a face was refused, said to the person who chose the photo (the quality check's reasons are measurements).

Why apart from quality.py: the reasons stay short and measured for logs and the studio's list of
faces; a person who uploaded a photo needs one sentence saying what to do (the camera panels have
their own wording in core/face_signin/hints.py).
"""

from __future__ import annotations

import re

from core.faces.types import Quality

_SMALL = re.compile(r"too small \((\d+)px wide, needs (\d+)px\)")
_ADVICE = (
    ("cut by the image edge", "Part of the face is outside the picture: use one where the whole face shows."),
    ("low detection score", "The face is hard to make out: use a clearer photo taken in good light."),
    ("blurred", "The face is blurred: use a sharper photo."),
    ("too dark", "The face is too dark: use a photo taken in better light."),
    ("head turned too far", "The head is turned too far to one side: use a photo where the face looks ahead."),
)


def refusal(quality: Quality) -> str:
    """One sentence for the first reason the face failed: what is wrong, and what to do instead."""
    reason = quality.reasons[0] if quality.reasons else ""
    if small := _SMALL.match(reason):
        return (f"The face is too small ({small.group(1)} pixels wide; at least {small.group(2)} are needed): "
                "use a photo where the face is larger, or come closer to the camera.")
    for start, sentence in _ADVICE:
        if reason.startswith(start):
            return sentence
    return "The face is not clear enough: use another photo."
