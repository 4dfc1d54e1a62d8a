"""The face engine: image in, faces out (box, score, landmarks, quality, chip, embedding).

Every feature (sign-in, enrolment, albums, search, live recognition, video analysis) goes
through one `FaceEngine`, loaded once per process by `get_engine()`, so models are loaded
once and every feature sees faces the same way.
"""

from __future__ import annotations

import threading
from functools import lru_cache

import cv2
import numpy as np

from core.config import Settings, get_settings
from core.faces.detector import FaceDetector
from core.faces.embedders import Embedder, chip_aligner, load_embedder, resolve_device
from core.faces.errors import NoFaceFound, PoorQualityFace, TooManyFaces
from core.faces.quality import MIN_SCORE, assess
from core.faces.quality_words import refusal
from core.faces.thresholds import CALIBRATED
from core.faces.types import Detection, Face
from core.monitoring.metrics import model_timer

# A face that fills the whole frame leaves MTCNN's windows no margin, so when nothing confident is
# found the frame is searched again inside a black border (a quarter of its longer side on every
# side), shrunk to at most TIGHT_RETRY_SIDE pixels: such a face is large, and the retry stays cheap
# on the many frames that simply hold no face. Black is what dlib's chips show outside an image.
TIGHT_RETRY_BORDER = 0.25
TIGHT_RETRY_SIDE = 320


class FaceEngine:
    """Detector and embedder behind one small API; the embedder loads on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.device = resolve_device(settings.device)
        self.detector = FaceDetector(self.device, settings.min_face_px, settings.detect_max_side, settings.detector)
        self._align = chip_aligner(settings.embedder, settings.detector)  # SFace: ArcFace chips; dlib, FaceNet: dlib's
        self._embedder: Embedder | None = None
        self._lock = threading.Lock()
        calibrated = CALIBRATED[settings.embedder]
        self.verify_threshold = settings.verify_threshold or calibrated.verify
        self.signin_threshold = settings.signin_threshold or calibrated.signin
        self.signin_margin = calibrated.margin if settings.signin_margin is None else settings.signin_margin

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            with self._lock:
                if self._embedder is None:
                    self._embedder = load_embedder(self.settings.embedder, self.device, self.settings.weights_dir)
        return self._embedder

    def analyse(self, rgb: np.ndarray, embed: bool = True) -> list[Face]:
        """Every face in the image, largest first, each judged, aligned and (by default) embedded."""
        faces = []
        for detection in self.detect(rgb):
            chip = self._align(rgb, detection)
            faces.append(Face(detection=detection, quality=assess(detection, chip, rgb.shape), chip=chip))
        if embed and faces:
            vectors = self.embed_chips(np.stack([face.chip for face in faces]))
            for face, vector in zip(faces, vectors, strict=True):
                face.embedding = vector
        return faces

    def detect(self, rgb: np.ndarray) -> list[Detection]:
        """Every face MTCNN finds, largest first; a tight crop of one face is found through a padded retry."""
        with model_timer("detect"):
            found = self.detector.detect(rgb)
            if any(detection.score >= MIN_SCORE for detection in found):
                return found
            retried = self._detect_with_border(rgb)
            return retried if any(detection.score >= MIN_SCORE for detection in retried) else found

    def _detect_with_border(self, rgb: np.ndarray) -> list[Detection]:
        """Detect in a black-bordered, shrunk copy and map the faces back to `rgb`'s pixels."""
        border = round(TIGHT_RETRY_BORDER * max(rgb.shape[:2]))
        padded = cv2.copyMakeBorder(rgb, border, border, border, border, cv2.BORDER_CONSTANT, value=(0, 0, 0))
        scale = min(1.0, TIGHT_RETRY_SIDE / max(padded.shape[:2]))
        if scale < 1.0:
            padded = cv2.resize(padded, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        back_x = (2 * border + rgb.shape[1]) / padded.shape[1]
        back_y = (2 * border + rgb.shape[0]) / padded.shape[0]
        return [
            Detection(
                box=(d.box[0] * back_x - border, d.box[1] * back_y - border,
                     d.box[2] * back_x - border, d.box[3] * back_y - border),
                score=d.score,
                landmarks=d.landmarks * np.array([back_x, back_y]) - border,
            )
            for d in self.detector.detect(padded)
        ]

    def confident_faces(self, rgb: np.ndarray) -> list[Face]:
        """Analysed faces scoring at least MIN_SCORE, largest first: weaker boxes are rarely faces."""
        return [face for face in self.analyse(rgb) if face.detection.score >= MIN_SCORE]

    def embed_chips(self, chips: np.ndarray) -> np.ndarray:
        """Aligned chips (N, size, size, 3) to embeddings (N, dim), in one forward pass."""
        embedder = self.embedder  # loaded outside the timer: a first call's model load is not a latency
        with model_timer("embed"):
            return embedder.embed(chips)

    def embed_detections(self, rgb: np.ndarray, detections: list[Detection]) -> np.ndarray:
        """Embeddings for faces already found (kept boxes and landmarks), aligned as this model wants them."""
        return self.embed_chips(np.stack([self._align(rgb, detection) for detection in detections]))

    def largest_good_face(self, rgb: np.ndarray) -> tuple[Face, int]:
        """The largest face that passes the quality verdict, and how many faces the image holds.

        Raises NoFaceFound when there is no face, PoorQualityFace when none is good enough.
        """
        faces = self.confident_faces(rgb)
        if not faces:
            raise NoFaceFound("No face was found in the image.")
        good = [face for face in faces if face.quality.ok]
        if not good:
            raise PoorQualityFace(refusal(faces[0].quality))
        return good[0], len(faces)

    def single_face(self, rgb: np.ndarray) -> Face:
        """Exactly one good face, as enrolment needs; anything else is refused with the reason."""
        faces = self.confident_faces(rgb)
        if not faces:
            raise NoFaceFound("No face was found in the image.")
        if len(faces) > 1:
            raise TooManyFaces(f"{len(faces)} faces were found; use a photo with only one face.")
        if not faces[0].quality.ok:
            raise PoorQualityFace(refusal(faces[0].quality))
        return faces[0]


_engine_lock = threading.Lock()


@lru_cache(maxsize=2)
def _engine_for(settings: Settings) -> FaceEngine:
    return FaceEngine(settings)


def get_engine() -> FaceEngine:
    """The process-wide engine for the current settings (models load once per process)."""
    with _engine_lock:
        return _engine_for(get_settings())
