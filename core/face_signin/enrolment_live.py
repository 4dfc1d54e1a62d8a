"""Live enrolment: collect 3 to 5 good samples in slightly different poses from the webcam.

Each frame the worker hands over is judged by the engine; the person is told what to fix (no
face, several faces, too far, too dark, blurred, turn to the camera), and a good face is kept
when its pose differs from every sample kept so far, so the samples cover small turns and nods
rather than five copies of one frame. Saving goes through `core.face_signin.enrolment.enrol`, with all its
checks; nothing is stored until then.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from core.face_signin.enrolment import Candidate, candidate
from core.face_signin.hints import spoken
from core.faces.engine import FaceEngine, get_engine
from core.faces.overlay import AMBER, GREEN, Overlay

MIN_SAMPLES = 3
MAX_SAMPLES = 5
# Pose change between kept samples, in yaw or pitch units (about 5 degrees): a small turn or nod.
MIN_POSE_CHANGE = 0.06


def head_pitch(landmarks: np.ndarray) -> float:
    """Nose height between the eye line (0) and the mouth line (1), measured across the eye axis."""
    eyes_mid = (landmarks[0] + landmarks[1]) / 2.0
    mouth_mid = (landmarks[3] + landmarks[4]) / 2.0
    axis = landmarks[1] - landmarks[0]
    down = np.array([-axis[1], axis[0]]) / max(float(np.linalg.norm(axis)), 1e-6)
    span = float(np.dot(mouth_mid - eyes_mid, down))
    return float(np.dot(landmarks[2] - eyes_mid, down)) / span if abs(span) > 1e-6 else 0.0


@dataclass(frozen=True)
class CollectorStatus:
    """What the enrolment panel shows."""

    count: int
    hint: str

    @property
    def ready(self) -> bool:
        return self.count >= MIN_SAMPLES


class SampleCollector:
    """Keeps up to MAX_SAMPLES good, different-pose faces; `process` runs in the frame worker's thread."""

    def __init__(self, engine: FaceEngine | None = None) -> None:
        self.engine = engine or get_engine()
        self._lock = threading.Lock()
        self._samples: list[tuple[Candidate, tuple[float, float]]] = []
        self._hint = "Look at the camera."

    def status(self) -> CollectorStatus:
        with self._lock:
            return CollectorStatus(len(self._samples), self._hint)

    def take(self) -> list[Candidate]:
        """The samples collected so far, handed over for saving; the collector starts again empty."""
        with self._lock:
            taken = [sample for sample, _ in self._samples]
            self._samples = []
            self._hint = "Look at the camera."
            return taken

    def process(self, rgb: np.ndarray, _arrived: float) -> Overlay:
        """Judge one frame, keep its face if it is good and new, and say what to fix."""
        with self._lock:
            if len(self._samples) >= MAX_SAMPLES:
                return Overlay(caption=f"{MAX_SAMPLES} samples: save them", colour=GREEN)
        faces = self.engine.confident_faces(rgb)
        boxes = tuple((face.detection.box, GREEN if face.quality.ok else AMBER) for face in faces)
        if not faces:
            return self._say("No face found: look at the camera.", "No face", boxes)
        if len(faces) > 1:
            return self._say("Several faces: only you should be in view.", "Several faces", boxes)
        face = faces[0]
        if not face.quality.ok:
            reason = face.quality.reasons[0]
            return self._say(spoken(reason), reason.split(":")[0].split("(")[0].strip(), boxes)
        pose = (face.quality.yaw, head_pitch(face.detection.landmarks))
        with self._lock:
            if len(self._samples) >= MAX_SAMPLES:
                return Overlay(boxes, f"{MAX_SAMPLES} samples: save them", GREEN)
            if all(max(abs(pose[0] - p[0]), abs(pose[1] - p[1])) >= MIN_POSE_CHANGE for _, p in self._samples):
                self._samples.append((candidate(rgb, face, self.engine), pose))
            count = len(self._samples)
            self._hint = (
                f"{count} samples taken: save them below."
                if count >= MAX_SAMPLES
                else f"{count} of {MAX_SAMPLES} taken. Turn or tilt your head a little for the next one."
            )
        return Overlay(boxes, f"Samples {count}/{MAX_SAMPLES}", GREEN)

    def _say(self, hint: str, caption: str, boxes: tuple) -> Overlay:
        with self._lock:
            self._hint = hint
        return Overlay(boxes, caption.strip().capitalize(), AMBER)
