"""The face engine: image in, faces out (box, score, landmarks, quality, chip, embedding).

Every feature (sign-in, enrolment, albums, search, live recognition, video analysis) goes
through one `FaceEngine`, loaded once per process by `get_engine()`, so models are loaded
once and every feature sees faces the same way.
"""

from __future__ import annotations

import threading
from functools import lru_cache

import numpy as np

from core.config import Settings, get_settings
from core.faces.alignment import align_face
from core.faces.detector import FaceDetector
from core.faces.embedders import CALIBRATED, Embedder, load_embedder, resolve_device
from core.faces.errors import NoFaceFound, PoorQualityFace, TooManyFaces
from core.faces.quality import MIN_SCORE, assess
from core.faces.types import Face


class FaceEngine:
    """Detector and embedder behind one small API; the embedder loads on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.device = resolve_device(settings.device)
        self.detector = FaceDetector(self.device, settings.min_face_px, settings.detect_max_side)
        self._embedder: Embedder | None = None
        self._lock = threading.Lock()
        calibrated = CALIBRATED[settings.embedder]
        self.verify_threshold = settings.verify_threshold or calibrated.verify
        self.signin_threshold = settings.signin_threshold or calibrated.signin

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            with self._lock:
                if self._embedder is None:
                    self._embedder = load_embedder(self.settings.embedder, self.device, self.settings.weights_dir)
        return self._embedder

    @property
    def chip_size(self) -> int:
        return 160 if self.settings.embedder == "facenet" else 150

    def analyse(self, rgb: np.ndarray, embed: bool = True) -> list[Face]:
        """Every face in the image, largest first, each judged, aligned and (by default) embedded."""
        faces = []
        for detection in self.detector.detect(rgb):
            chip = align_face(rgb, detection.landmarks, self.chip_size)
            faces.append(Face(detection=detection, quality=assess(detection, chip, rgb.shape), chip=chip))
        if embed and faces:
            vectors = self.embed_chips(np.stack([face.chip for face in faces]))
            for face, vector in zip(faces, vectors, strict=True):
                face.embedding = vector
        return faces

    def confident_faces(self, rgb: np.ndarray) -> list[Face]:
        """Analysed faces scoring at least MIN_SCORE, largest first: weaker boxes are rarely faces."""
        return [face for face in self.analyse(rgb) if face.detection.score >= MIN_SCORE]

    def embed_chips(self, chips: np.ndarray) -> np.ndarray:
        """Aligned chips (N, size, size, 3) to embeddings (N, dim), in one forward pass."""
        return self.embedder.embed(chips)

    def largest_good_face(self, rgb: np.ndarray) -> tuple[Face, int]:
        """The largest face that passes the quality verdict, and how many faces the image holds.

        Raises NoFaceFound when there is no face, PoorQualityFace when none is good enough.
        """
        faces = self.confident_faces(rgb)
        if not faces:
            raise NoFaceFound("No face was found in the image.")
        good = [face for face in faces if face.quality.ok]
        if not good:
            raise PoorQualityFace(f"The face is not good enough: {faces[0].quality.message}.")
        return good[0], len(faces)

    def single_face(self, rgb: np.ndarray) -> Face:
        """Exactly one good face, as enrolment needs; anything else is refused with the reason."""
        faces = self.confident_faces(rgb)
        if not faces:
            raise NoFaceFound("No face was found in the image.")
        if len(faces) > 1:
            raise TooManyFaces(f"{len(faces)} faces were found; use a photo with only one face.")
        if not faces[0].quality.ok:
            raise PoorQualityFace(f"The face is not good enough: {faces[0].quality.message}.")
        return faces[0]


_engine_lock = threading.Lock()


@lru_cache(maxsize=2)
def _engine_for(settings: Settings) -> FaceEngine:
    return FaceEngine(settings)


def get_engine() -> FaceEngine:
    """The process-wide engine for the current settings (models load once per process)."""
    with _engine_lock:
        return _engine_for(get_settings())
