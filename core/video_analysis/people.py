"""From tracks to people: pieces of one person joined, each person named from the owner's studio, or numbered.

Merging: two tracks are the same person when the distance between their centroids (mean embeddings, of
good-quality faces when there are any) is within the engine's verify threshold, and they never share a
sampled frame (two faces on screen at once are two people). Closest pairs go first, with complete linkage
(every pair of tracks in a person within the threshold): a merged centroid drifts towards everyone's mean,
so comparing merged centroids, measured on the test clip, joined a pianist to a president. A track without
one good-quality face (a profile, a blurred or small face) has a poor centroid: it joins others only within
the engine's stricter sign-in threshold, because a wrong join is worse than two entries for one person.
Only the current embedder's vectors are ever compared, here and in the owner's gallery.
Naming: each person's centroid goes to the studio's `Recogniser` (nearest named face, calibrated
percentage, margin over the runner-up); two people given the same name are one person when they never
share a frame, else the better match keeps the name. An unknown seen in fewer than MIN_SIGHTINGS sampled
frames is dropped: a single weak glimpse is more often a false detection than a person worth listing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from core.faces.matching import distances
from core.video_analysis.sightings import Sighting
from core.video_analysis.tracking import Track

MIN_SIGHTINGS = 2
UNKNOWN = "Unknown person {}"


@dataclass
class Person:
    """One person of the video: their tracks, where they are, and who they are."""

    tracks: list[Track]
    person_id: int | None = None
    name: str | None = None
    similarity_pct: float | None = None
    seq: int = 0
    label: str = ""
    samples: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.samples = set().union(*(t.samples() for t in self.tracks))

    @property
    def sightings(self) -> list[Sighting]:
        return sorted((s for t in self.tracks for s in t.sightings), key=lambda s: s.sample)

    @property
    def best_track(self) -> Track:
        return max(self.tracks, key=lambda t: t.best.rank)

    def centroid(self) -> np.ndarray:
        embedded = [s for s in self.sightings if s.embedding is not None]
        good = [s.embedding for s in embedded if s.rank[0]]
        return np.mean(good or [s.embedding for s in embedded], axis=0).astype(np.float32)

    def first_seen(self) -> float:
        return min(t.sightings[0].at for t in self.tracks)

    def absorb(self, other: Person) -> None:
        self.tracks += other.tracks
        self.samples |= other.samples


def merge_tracks(tracks: Sequence[Track], threshold: float, strict: float) -> list[Person]:
    """Join the tracks of the same person: closest first, complete linkage, never two tracks that share a frame.

    A track with no good-quality face (turned, blurred, small) joins another only within `strict`."""
    people = [Person([track]) for track in tracks]
    if len(people) < 2:
        return people
    centroids = np.stack([p.centroid() for p in people])
    table = np.stack([distances(c, centroids) for c in centroids])
    good = np.array([any(s.rank[0] and s.embedding is not None for s in track.sightings) for track in tracks])
    table[~(good[:, None] & good[None, :])] *= threshold / strict  # within `strict` reads as within `threshold`
    for i, person in enumerate(people):
        for k in range(len(people)):
            if i == k or person.samples & people[k].samples:
                table[i, k] = np.inf
    alive = np.ones(len(people), bool)
    while True:
        i, k = np.unravel_index(np.argmin(table), table.shape)
        if table[i, k] > threshold:
            break
        people[i].absorb(people[k])
        alive[k] = False
        table[i, :] = table[:, i] = np.maximum(table[i, :], table[k, :])  # a shared frame (inf) stays inf
        table[i, i] = np.inf
        table[k, :] = table[:, k] = np.inf
    return [p for p, keep in zip(people, alive, strict=True) if keep]


def _join_same_names(people: list[Person]) -> list[Person]:
    by_id: dict[int, Person] = {}
    kept = []
    for person in sorted(people, key=lambda p: -(p.similarity_pct or 0.0)):
        first = by_id.get(person.person_id) if person.person_id is not None else None
        if first is None:
            if person.person_id is not None:
                by_id[person.person_id] = person
            kept.append(person)
        elif first.samples & person.samples:  # on screen together: not the same person; the weaker match yields
            person.person_id = person.name = person.similarity_pct = None
            kept.append(person)
        else:
            first.absorb(person)
    return kept


def name_people(people: list[Person], match: Callable[[np.ndarray], list]) -> list[Person]:
    """Name each person with `match` (Recogniser.match_vectors), join same names, number the rest.

    Returns the people in order of first appearance with `seq` 1, 2 ... and a fallback `label`:
    unknowns are "Unknown person 1, 2 ..." by first appearance; named people get the next numbers, shown
    only if the studio person is deleted later."""
    if people:
        for person, found in zip(people, match(np.stack([p.centroid() for p in people])), strict=True):
            if found.known:
                person.person_id, person.name, person.similarity_pct = found.person_id, found.name, found.similarity_pct
    people = [p for p in _join_same_names(people) if p.person_id is not None or len(p.samples) >= MIN_SIGHTINGS]
    people.sort(key=Person.first_seen)
    ordered = [p for p in people if p.person_id is None] + [p for p in people if p.person_id is not None]
    for number, person in enumerate(ordered, start=1):
        person.label = UNKNOWN.format(number)
    for seq, person in enumerate(people, start=1):
        person.seq = seq
    return people


def time_ranges(times: Sequence[float], sample_fps: float, duration_s: float) -> list[tuple[float, float]]:
    """When someone is on screen: their sampled times, joined across gaps of up to a second (2.5 samples at low rates).

    Each sample stands for the 1/sample_fps seconds that follow it, so one sighting is a range, not a point."""
    step = 1.0 / sample_fps
    join = max(1.0, 2.5 * step)
    ranges: list[list[float]] = []
    for at in sorted(times):
        if ranges and at - ranges[-1][1] <= join:
            ranges[-1][1] = at
        else:
            ranges.append([at, at])
    return [(round(start, 2), round(min(end + step, duration_s) if duration_s else end + step, 2))
            for start, end in ranges]
