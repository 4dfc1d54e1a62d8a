"""Following faces from one sampled frame to the next: box overlap plus embedding distance.

A face in the next sample continues a track when it is the same person (embedding distance within the
engine's verify threshold) and either its box overlaps the track's last box (IoU, core.faces.face_track)
or it is clearly the same person (distance within STRICT_SHARE of the threshold: someone who moved fast
or came back after a cut). Pairs are taken best first, so two faces never continue one track. A track
not seen for MAX_GAP_S ends; the merging step joins the pieces of one person later.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from core.faces.face_track import box_overlap
from core.faces.matching import distance
from core.video_analysis.sightings import FrameFaces, Sighting, jpeg

MIN_OVERLAP = 0.3
STRICT_SHARE = 0.75
MAX_GAP_S = 1.0
RECENT = 5  # a track is compared with the mean of its last few embeddings (one bad frame does not break it)


@dataclass
class Track:
    """One face followed over consecutive samples; keeps the best crop seen (as JPEG), not every crop."""

    id: int
    sightings: list[Sighting] = field(default_factory=list)
    best: Sighting | None = None
    thumbnail: bytes = b""

    @property
    def last(self) -> Sighting:
        return self.sightings[-1]

    def recent(self) -> np.ndarray:
        embedded = [s.embedding for s in self.sightings if s.embedding is not None]  # a track starts embedded
        return np.mean(embedded[-RECENT:], axis=0)

    def add(self, sighting: Sighting) -> None:
        self.sightings.append(sighting)
        if self.best is None or sighting.rank > self.best.rank:
            self.best, self.thumbnail = sighting, jpeg(sighting.crop)
        sighting.crop = None

    def samples(self) -> set[int]:
        return {s.sample for s in self.sightings}


def track_faces(frames: Iterable[FrameFaces], threshold: float) -> list[Track]:
    """Every track of the video, in order of first appearance."""
    tracks: list[Track] = []
    live: list[Track] = []
    holder: dict[int, Track] = {}  # id of the previous sample's sightings -> their track
    for found in frames:
        live = [t for t in live if found.at - t.last.at <= MAX_GAP_S]
        taken_tracks: set[int] = set()
        taken_faces: set[int] = set()
        for fi, sighting in enumerate(found.sightings):  # faces followed by their box alone
            track = holder.get(id(sighting.follows)) if sighting.follows is not None else None
            sighting.follows = None  # the link is used once: older sightings are not kept alive by it
            if track is not None and track in live:
                track.add(sighting)
                taken_tracks.add(live.index(track))
                taken_faces.add(fi)
        pairs = []
        for ti, track in enumerate(live):
            recent = track.recent()
            for fi, sighting in enumerate(found.sightings):
                if ti in taken_tracks or fi in taken_faces or sighting.embedding is None:
                    continue
                dist = distance(sighting.embedding, recent)
                overlap = box_overlap(track.last.box, sighting.box)
                if dist <= threshold and (overlap >= MIN_OVERLAP or dist <= STRICT_SHARE * threshold):
                    pairs.append((dist - 0.2 * overlap, ti, fi))
        for _, ti, fi in sorted(pairs):
            if ti not in taken_tracks and fi not in taken_faces:
                live[ti].add(found.sightings[fi])
                taken_tracks.add(ti)
                taken_faces.add(fi)
        for fi, sighting in enumerate(found.sightings):
            if fi not in taken_faces and sighting.embedding is not None:
                track = Track(len(tracks))
                track.add(sighting)
                tracks.append(track)
                live.append(track)
        holder = {id(s): t for t in live for s in t.sightings[-1:] if s.sample == found.sample}
    return tracks
