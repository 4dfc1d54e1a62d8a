"""One video analysed: sampled frames -> faces -> tracks -> people -> named -> thumbnails, boxes, annotated copy.

Everything is written into a staging folder (core.video_analysis.files); nothing touches the database here,
so a failure or a cancel leaves nothing but that folder, which the caller removes. Two passes over the
video: the first finds the faces, the second draws them, because names are known only once every track is
merged and identified. Progress counts decoded frames of both passes (total: twice the frame count).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from core.faces.engine import get_engine
from core.monitoring import metrics
from core.studio.recognise import Recogniser
from core.video_analysis.annotate import Marks, ascii_caption, write_annotated
from core.video_analysis.decoding import sampled_frames
from core.video_analysis.people import Person, merge_tracks, name_people, time_ranges
from core.video_analysis.probe import VideoFile
from core.video_analysis.sightings import FrameFaces, frame_faces
from core.video_analysis.tracking import track_faces

NO_FACES = "No faces were found in this video."
Report = Callable[[int, int, str], None]  # (frames done, frames in all, stage in words)


@dataclass(frozen=True)
class Outcome:
    """What the analysis found, with its files in the staging folder."""

    video: VideoFile
    sample_fps: float
    sampled: int
    embedder: str
    people: list[Person]
    ranges: dict[int, list[tuple[float, float]]]  # by person seq
    message: str | None
    timings: dict[str, float]


def _watched(frames: Iterable[FrameFaces], kept: list[FrameFaces], keep_going: Callable[[], bool],
             stopped: list[bool]) -> Iterator[FrameFaces]:
    for found in frames:
        if not keep_going():
            stopped.append(True)
            return
        metrics.frames_processed(1)
        metrics.faces_found(len(found.sightings))
        kept.append(found)
        yield found


def _marks(frames: list[FrameFaces], people: list[Person]) -> tuple[Marks, list[dict]]:
    """Per sampled frame: boxes for drawing, and the JSON rows of frames.json (person by seq, None if dropped)."""
    seq_of = {id(s): p for p in people for t in p.tracks for s in t.sightings}
    marks: Marks = []
    rows = []
    for found in frames:
        drawn, faces = [], []
        for s in found.sightings:
            person = seq_of.get(id(s))
            faces.append({"person": person.seq if person else None, "box": [round(v, 1) for v in s.box],
                          "score": round(s.score, 4)})
            if person is not None:
                caption = ascii_caption(person.name or person.label)
                drawn.append((person.seq, s.box, caption, person.person_id is not None))
        marks.append((found.at, drawn))
        rows.append({"index": found.frame, "t": round(found.at, 3), "faces": faces})
    return marks, rows


def _write_thumbnails(people: list[Person], folder: Path) -> None:
    """`<seq>.jpg` per person, and `boxes.json`: where the face is in each (what "Add to my people" adds)."""
    boxes = {}
    for person in people:
        boxes[person.seq] = [round(float(v), 1) for v in person.best_track.best.crop_box]
        (folder / f"{person.seq}.jpg").write_bytes(person.best_track.thumbnail)
    (folder / "boxes.json").write_text(json.dumps(boxes))


def analyse(owner_id: int, video: VideoFile, sample_fps: float, staging: Path, report: Report,
            keep_going: Callable[[], bool]) -> Outcome | None:
    """Analyse `video` into `staging`; None when `keep_going` said stop. BadInput for a damaged file."""
    engine = get_engine()
    threshold = engine.verify_threshold
    total = 2 * max(video.frame_count, 1)
    started = time.perf_counter()

    seen = [0]

    def first_pass(index: int) -> None:
        seen[0] = index + 1
        report(index + 1, total, "Finding faces")

    kept: list[FrameFaces] = []
    stopped: list[bool] = []
    found = frame_faces(engine, sampled_frames(video, sample_fps, first_pass))
    tracks = track_faces(_watched(found, kept, keep_going, stopped), threshold)
    if stopped:
        return None
    merged = merge_tracks(tracks, threshold, min(engine.signin_threshold, threshold))
    people = name_people(merged, Recogniser(owner_id).match_vectors)
    faces_s = time.perf_counter() - started
    marks, rows = _marks(kept, people)
    _write_thumbnails(people, staging / "people")
    (staging / "frames.json").write_text(json.dumps(rows, separators=(",", ":")))
    frames_seen = seen[0]

    def second_pass(index: int) -> None:
        report(frames_seen + index + 1, 2 * frames_seen, "Drawing the annotated video")

    if not write_annotated(video, marks, sample_fps, staging / "annotated.mp4", second_pass, keep_going):
        return None
    ranges = {p.seq: time_ranges([s.at for s in p.sightings], sample_fps, video.duration_s or 0.0) for p in people}
    timings = {"faces": round(faces_s, 2), "annotate": round(time.perf_counter() - started - faces_s, 2),
               "total": round(time.perf_counter() - started, 2)}
    return Outcome(video, sample_fps, len(kept), engine.settings.embedder, people, ranges,
                   None if people else NO_FACES, timings)
