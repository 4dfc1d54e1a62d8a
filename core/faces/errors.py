"""Typed errors of the face engine; each message is written for the person who sent the input."""

from __future__ import annotations


class FaceError(Exception):
    """Base of every face-engine error; `str(err)` is safe to show on a page."""


class ImageError(FaceError):
    """The input is not an image the engine can read."""


class UnreadableImage(ImageError):
    """Empty, truncated, corrupt, or not an image at all."""


class UnsupportedImageFormat(ImageError):
    """A real file of a type we do not accept (a PDF, a GIF animation, ...)."""


class ImageTooLarge(ImageError):
    """More pixels than the configured cap: refused before decoding, so no memory bomb."""


class NoFaceFound(FaceError):
    """The image holds no face good enough for the task."""


class TooManyFaces(FaceError):
    """The task needs one face and the image holds several."""


class PoorQualityFace(FaceError):
    """A face was found but fails the quality verdict (too small, blurred, turned, cut)."""


class ModelUnavailable(FaceError):
    """Model weights are missing and cannot be made or fetched here."""


class DecoderBusy(ImageError):
    """Every heavy-decode slot stayed taken for the whole wait; not the file's fault, it may be sent again."""
