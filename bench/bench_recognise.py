"""Recognition benchmark: what a live view or a video pays per frame and per refresh, by how many faces are named.

    python -m bench.bench_recognise [--named 100 1000 10000] [--faces-per-person 5] [--repeat 50]

Prints JSON. The named faces are synthetic unit vectors (128 dimensions, dlib's size), `--faces-per-person`
per person, written to a fresh SQLite database in a temporary data dir as the importer writes faces. Per size:
"load_ms" is a Recogniser's first read of the gallery (ids, names and every vector); "refresh_ms" the re-read a
running view does every second when nothing changed (ids and names only); "match_ms" one `match_vectors` call
for 1, 3 and 5 faces (medians, bench/timing.py). "photo_ms" is `recognise_photo` of a real group photo
(tests/data/faces/groups/kit_with_rose.jpg, two faces: decode, face engine, matching, drawing) at the largest
size, with the engine warm.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile

import numpy as np

from bench.timing import median_ms

DIM = 128


def _fill(owner_id: int, first_person: int, people: int, per_person: int, rng: np.random.Generator) -> None:
    """People first_person.. and their faces (one synthetic photo per person), through SQLAlchemy Core."""
    from sqlalchemy import insert

    from core.storage.database import session_scope
    from core.storage.models import utcnow
    from core.storage.studio_models import Face, Person, Photo

    now = utcnow()
    ids = range(first_person + 1, first_person + people + 1)
    vectors = rng.standard_normal((people * per_person, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    with session_scope() as session:
        session.execute(insert(Person), [{"id": p, "owner_id": owner_id, "name": f"Person {p}", "notes": "",
                                          "created_at": now} for p in ids])
        session.execute(insert(Photo), [{"id": p, "owner_id": owner_id, "sha256": f"{p:064x}",
                                         "original_name": f"{p}.jpg", "origin": f"/bench/{p}.jpg",
                                         "status": "processed", "created_at": now} for p in ids])
        session.execute(insert(Face), [
            {"photo_id": p, "owner_id": owner_id, "x1": 0.0, "y1": 0.0, "x2": 1.0, "y2": 1.0, "score": 1.0,
             "landmarks": "[]", "quality_ok": True, "quality_reasons": "", "embedder": "dlib", "dim": DIM,
             "embedding": vectors[i * per_person + k].tobytes(), "person_id": p, "named_by": "hand",
             "created_at": now}
            for i, p in enumerate(ids) for k in range(per_person)])


def _measure(owner_id: int, rng: np.random.Generator, repeat: int) -> dict:
    from core.studio.recognise import Recogniser

    load_ms = median_ms(lambda: Recogniser(owner_id).refresh(), 5)
    recogniser = Recogniser(owner_id)
    recogniser.refresh()
    match_ms = {}
    for faces in (1, 3, 5):
        queries = rng.standard_normal((faces, DIM)).astype(np.float32)
        match_ms[str(faces)] = median_ms(lambda q=queries: recogniser.match_vectors(q), repeat)
    return {"load_ms": load_ms, "refresh_ms": median_ms(lambda: recogniser.refresh(force=True), repeat),
            "match_ms": match_ms}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--named", type=int, nargs="+", default=[100, 1000, 10_000])
    parser.add_argument("--faces-per-person", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    report: dict = {"dim": DIM, "faces_per_person": args.faces_per_person, "cpus": os.cpu_count(),
                    "load_average": round(os.getloadavg()[0], 2), "sizes": {}}
    rng = np.random.default_rng(11)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["WEBTUBE_DATA_DIR"] = tmp
        os.environ["WEBTUBE_EMBEDDER"] = "dlib"
        from core.config import get_settings
        from core.studio.owners import resolve_owner
        from core.studio.recognise_photo import recognise_photo
        from tests.support.paths import FACES_DIR

        get_settings.cache_clear()
        owner_id = resolve_owner(None)
        people = 0
        for named in sorted(args.named):
            wanted = max(named // args.faces_per_person, 1)
            _fill(owner_id, people, wanted - people, args.faces_per_person, rng)
            people = wanted
            entry = {"people": people, **_measure(owner_id, rng, args.repeat)}
            report["sizes"][str(people * args.faces_per_person)] = entry
            print(json.dumps({str(people * args.faces_per_person): entry}), flush=True)
        photo = (FACES_DIR / "groups/kit_with_rose.jpg").read_bytes()
        report["photo_ms"] = median_ms(lambda: recognise_photo(owner_id, photo), 5)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
