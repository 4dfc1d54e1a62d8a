"""Live recognition for one browser session: every face in the stream named (or Unknown), followed, listed,
and a frozen frame to add a newcomer from.

`process` runs in the latest-frame-wins worker (core/faces/live_frames.py) on the newest frame: the one
engine finds and embeds every face, the owner's `Recogniser` (core/studio/recognise.py, refreshed from
the database every second, so renames, merges and deletions elsewhere show within a second or two)
says who each is, and `LiveTracks` keeps each label on its face (core/studio/live_tracks.py).

Freezing keeps the last analysed frame, as JPEG bytes and its faces, in this object only, until the
person adds a face from it or discards it: nothing is written until they ask. Adding goes through
`recognise_add.add_face` (the frame becomes a photo of their library, the face is named), then the
recogniser reloads at once, so the very next frames name the newcomer.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from PIL import Image

from core.faces.engine import FaceEngine, get_engine
from core.studio.errors import BadInput
from core.studio.live_overlay import draw_labels
from core.studio.live_tracks import InView, Label, LiveTracks, Seen
from core.studio.people import PersonInfo
from core.studio.recognise import Recogniser
from core.studio.recognise_add import add_face

JPEG_QUALITY = 92  # a frozen frame that is added becomes a library photo: keep it close to the camera's


@dataclass(frozen=True)
class FrozenFrame:
    """A frame held for adding a face: the picture as analysed, the same with numbered boxes, its faces."""

    jpeg: bytes
    preview_jpeg: bytes
    faces: tuple[Label, ...]  # face n of the preview is faces[n - 1]
    taken_at: datetime


def _jpeg(rgb: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format="JPEG", quality=JPEG_QUALITY)
    return out.getvalue()


class LiveRecognition:
    """One live view of one owner's people; `process` runs in the frame worker, the rest in the page."""

    def __init__(self, owner_id: int, engine: FaceEngine | None = None, recogniser: Recogniser | None = None) -> None:
        self.owner_id = owner_id
        self.engine = engine or get_engine()
        self.recogniser = recogniser or Recogniser(owner_id)
        self.tracks = LiveTracks(same_face=self.engine.verify_threshold)
        self._lock = threading.Lock()
        self._last: tuple[np.ndarray, tuple[Label, ...]] | None = None
        self._frozen: FrozenFrame | None = None
        # Load the models while the person is still reading the page, not on the first camera frame: on a
        # busy machine that first load takes many seconds, and the stream should not wait on it.
        threading.Thread(target=self._warm_up, name="live-warm-up", daemon=True).start()

    def _warm_up(self) -> None:
        size = self.engine.embedder.chip_size  # loads the embedder once per process
        self.engine.embed_chips(np.zeros((1, size, size, 3), np.uint8))
        self.engine.detect(np.zeros((120, 160, 3), np.uint8))

    def process(self, rgb: np.ndarray, arrived: float) -> tuple[Label, ...]:
        """One frame: find, embed and recognise every face, follow them; returns what the preview draws."""
        faces = self.engine.confident_faces(rgb)
        found = self.recogniser.recognise(faces)
        seen = [
            Seen(tuple(float(v) for v in face.detection.box), face.embedding, r.person_id, r.name, r.similarity_pct)
            for face, r in zip(faces, found, strict=True)
        ]
        labels = tuple(self.tracks.update(seen, arrived))
        with self._lock:
            self._last = (rgb, labels)
        return labels

    def in_view(self) -> list[InView]:
        """Who is in view now and since when (named people first)."""
        return self.tracks.in_view()

    @property
    def threshold_pct(self) -> float:
        return self.recogniser.threshold_pct

    @property
    def margin_pct(self) -> float:
        return self.recogniser.margin_pct

    def risk_words(self) -> str:
        """The threshold's measured risk, as the search page words it."""
        return self.recogniser.risk_words()

    @property
    def frozen(self) -> FrozenFrame | None:
        return self._frozen

    def freeze(self) -> FrozenFrame:
        """Hold the last analysed frame and the faces seen in it; BadInput when there is none to hold."""
        with self._lock:
            last = self._last
        if last is None:
            raise BadInput("No frame has been analysed yet: press START and wait for the boxes.")
        rgb, labels = last
        faces = tuple(label for label in labels if label.seen_now)  # a held box is not in this picture
        if not faces:
            raise BadInput("No face is in view to add: freeze when a box is drawn around a face.")
        frozen = FrozenFrame(_jpeg(rgb), _jpeg(draw_labels(rgb, faces, numbered=True)), faces, datetime.now(UTC))
        with self._lock:
            self._frozen = frozen
        return frozen

    def discard(self) -> None:
        """Forget the frozen frame (it was never written anywhere)."""
        with self._lock:
            self._frozen = None

    def add_face(self, number: int, *, name: str | None = None, person_id: int | None = None) -> PersonInfo:
        """Face `number` (1-based, as drawn) of the frozen frame as a new person (`name`) or another sample
        of `person_id`; the frame becomes a library photo and the next frames recognise them."""
        frozen = self._frozen
        if frozen is None:
            raise BadInput("Freeze a frame first.")
        if not 1 <= number <= len(frozen.faces):
            raise BadInput(f"Choose a face from 1 to {len(frozen.faces)}.")
        stamp = frozen.taken_at.strftime("%Y%m%d-%H%M%S")
        person = add_face(
            self.owner_id, frozen.jpeg, box=frozen.faces[number - 1].box, name=name, person_id=person_id,
            original_name=f"live-{stamp}.jpg",
        )
        self.recogniser.refresh(force=True)
        with self._lock:
            if self._frozen is frozen:
                self._frozen = None
        return person
