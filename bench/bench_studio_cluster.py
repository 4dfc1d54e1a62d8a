"""Studio clustering: which algorithm, how good, how fast, how much memory.

Run: `make bench` or `.venv/bin/python -m bench.bench_studio_cluster [--sizes 10000 100000]`. Prints one JSON object:

- `labelled`: every labelled face of tests/data/faces through the real engine (people/, the known
  faces of groups/ and hard/, and frames of the video where only Lin-Manuel Miranda is in view);
  faces of unknown people (the two strangers of obama_and_biden.jpg, the second box of obama_1.jpg)
  are their own identity, so clustering them with anyone costs precision. Poor-quality
  faces are left out of clustering, as in the studio, and count as unclustered.
- `quality`: pairwise precision / recall / F1 and BCubed F1 for Chinese whispers, connected
  components (single linkage), DBSCAN, HDBSCAN and agglomerative average / complete linkage
  (scikit-learn), each at link distances around the embedder's thresholds; groups under two faces are
  unclustered in every algorithm. `chosen` is the studio's algorithm at its default distance.
- `synthetic`: the same scores on synthetic faces with the measured genuine / impostor spread;
  `scale`: seconds and peak memory (VmHWM of a fresh process) of the studio's clustering at each size,
  and `scale_through_database`: `clustering.cluster_faces` itself on a SQLite library of that many faces
  (reading the faces, clustering, writing each face's group).

Synthetic faces: identity centres drawn so that centre-to-centre distances match the real impostor
mean, faces spread around them to match the real genuine mean (128-D Gaussians concentrate, so the
means set the whole spread); identity sizes are Zipf-like (many people seen once, a few often).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time
from collections.abc import Callable
from itertools import combinations
from pathlib import Path

import av
import numpy as np

from core.faces.thresholds import CALIBRATED
from core.studio.graph_clustering import chinese_whispers, groups, knn_graph
from tests.support.paths import FACES_DIR as FACES

MIN_SIZE = 2
NEIGHBOURS = 20
VIDEO_SECONDS = np.arange(3.7, 7.8, 0.5)  # Lin-Manuel Miranda alone in the frame (tests/data/faces/README.md)
GROUP_PEOPLE = {  # two_people.jpg is Obama and Biden (0.06 from biden_1.jpg and obama_3.jpg: the same shot)
    "kit_with_rose.jpg": ("kit_harington", "rose_leslie"), "obama_and_biden.jpg": ("obama", "biden"),
    "two_people.jpg": ("obama", "biden"),
}


def _faces(rgb: np.ndarray) -> list:
    from core.faces.engine import get_engine

    return [f for f in get_engine().analyse(rgb) if f.embedding is not None]


def labelled_faces() -> tuple[np.ndarray, list[str], np.ndarray]:
    """Embeddings, identity labels and quality verdicts of every labelled face of tests/data/faces."""
    from core.faces.images import load_image

    vectors, labels, ok = [], [], []
    unknown = iter(range(1000))

    def add(face, label: str) -> None:
        vectors.append(face.embedding)
        labels.append(label)
        ok.append(face.quality.ok)

    for folder in sorted((FACES / "people").iterdir()):
        for path in sorted(folder.iterdir()):
            faces = sorted(_faces(load_image(path)), key=lambda f: -f.detection.score)
            for rank, face in enumerate(faces):
                add(face, folder.name if rank == 0 else f"stranger-{next(unknown)}")
    centroids = {name: np.mean([v for v, label in zip(vectors, labels, strict=True) if label == name], axis=0)
                 for name in set(labels) if not name.startswith("stranger")}
    for path in sorted((FACES / "groups").iterdir()):
        faces = _faces(load_image(path))
        known = GROUP_PEOPLE.get(path.name, ())
        claimed: set[int] = set()
        for name in known:  # the face nearest each known person's centroid is that person
            distances = [np.linalg.norm(f.embedding - centroids[name]) if i not in claimed else np.inf
                         for i, f in enumerate(faces)]
            claimed.add(int(np.argmin(distances)))
            add(faces[int(np.argmin(distances))], name)
        for i, face in enumerate(faces):
            if i not in claimed:
                add(face, f"stranger-{next(unknown)}")
    for path in sorted((FACES / "hard").iterdir()):  # every photo there is of Obama
        for face in _faces(load_image(path))[:1]:
            add(face, "obama")
    with av.open(str(FACES / "video" / "short_hamilton_clip.mp4")) as container:
        wanted = list(VIDEO_SECONDS)
        for frame in container.decode(video=0):
            if wanted and frame.time >= wanted[0]:
                wanted.pop(0)
                for face in _faces(frame.to_ndarray(format="rgb24"))[:1]:
                    add(face, "lin_manuel_miranda")
    return np.asarray(vectors, dtype=np.float32), labels, np.asarray(ok)


def scores(truth: list, predicted: np.ndarray) -> dict:
    """Pairwise precision / recall / F1 and BCubed F1; predicted -1 = unclustered (its own singleton)."""
    n = len(truth)
    pred = [p if p >= 0 else f"alone-{i}" for i, p in enumerate(predicted.tolist())]
    same_truth = same_pred = both = 0
    for i, j in combinations(range(n), 2):
        t, p = truth[i] == truth[j], pred[i] == pred[j]
        same_truth += t
        same_pred += p
        both += t and p
    precision = both / same_pred if same_pred else 1.0
    recall = both / same_truth if same_truth else 1.0
    b_p = b_r = 0.0
    for i in range(n):
        cluster = [j for j in range(n) if pred[j] == pred[i]]
        identity = [j for j in range(n) if truth[j] == truth[i]]
        common = sum(truth[j] == truth[i] for j in cluster)
        b_p += common / len(cluster)
        b_r += common / len(identity)
    b_p, b_r = b_p / n, b_r / n
    return {
        "precision": round(precision, 3), "recall": round(recall, 3),
        "f1": round(2 * precision * recall / (precision + recall), 3) if precision + recall else 0.0,
        "bcubed_f1": round(2 * b_p * b_r / (b_p + b_r), 3) if b_p + b_r else 0.0,
    }


def _to_labels(n: int, members: list[np.ndarray]) -> np.ndarray:
    out = np.full(n, -1)
    for number, indices in enumerate(members):
        out[indices] = number
    return out


def _small_dropped(raw: np.ndarray) -> np.ndarray:
    members = [np.flatnonzero(raw == label) for label in np.unique(raw) if label >= 0]
    return _to_labels(len(raw), [m for m in members if len(m) >= MIN_SIZE])


def studio_clusters(vectors: np.ndarray, distance: float) -> np.ndarray:
    """The studio's clustering (graph_clustering, as clustering.label_faces runs it)."""
    graph = knn_graph(vectors, NEIGHBOURS, distance)
    return _to_labels(len(vectors), groups(chinese_whispers(graph, distance), MIN_SIZE))


def components(vectors: np.ndarray, distance: float) -> np.ndarray:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = knn_graph(vectors, NEIGHBOURS, distance)
    adjacency = coo_matrix((np.ones(len(graph.rows)), (graph.rows, graph.cols)), shape=(graph.n, graph.n))
    return _small_dropped(connected_components(adjacency, directed=False)[1])


def dbscan(vectors: np.ndarray, distance: float) -> np.ndarray:
    from sklearn.cluster import DBSCAN

    return _small_dropped(DBSCAN(eps=distance, min_samples=MIN_SIZE).fit_predict(vectors))


def hdbscan(vectors: np.ndarray, distance: float) -> np.ndarray:
    from sklearn.cluster import HDBSCAN

    return _small_dropped(HDBSCAN(min_cluster_size=MIN_SIZE, cluster_selection_epsilon=distance / 2, copy=True)
                          .fit_predict(vectors))


def agglomerative(linkage: str) -> Callable[[np.ndarray, float], np.ndarray]:
    def run(vectors: np.ndarray, distance: float) -> np.ndarray:
        from sklearn.cluster import AgglomerativeClustering

        model = AgglomerativeClustering(n_clusters=None, distance_threshold=distance, linkage=linkage)
        return _small_dropped(model.fit_predict(vectors))

    return run


ALGORITHMS: dict[str, Callable[[np.ndarray, float], np.ndarray]] = {
    "chinese_whispers": studio_clusters, "connected_components": components, "dbscan": dbscan,
    "hdbscan": hdbscan, "agglomerative_average": agglomerative("average"),
    "agglomerative_complete": agglomerative("complete"),
}


def evaluate(vectors: np.ndarray, truth: list, ok: np.ndarray, distances: list[float]) -> dict:
    """Every algorithm at every distance; poor-quality faces never enter and count as unclustered."""
    good = np.flatnonzero(ok)
    out = {}
    for name, run in ALGORITHMS.items():
        out[name] = {}
        for distance in distances:
            predicted = np.full(len(truth), -1)
            predicted[good] = run(vectors[good], distance)
            out[name][f"{distance:.2f}"] = scores(truth, predicted)
    return out


def spread(vectors: np.ndarray, truth: list, ok: np.ndarray) -> dict:
    """Mean and standard deviation of genuine and impostor distances among the good labelled faces."""
    good = np.flatnonzero(ok)
    genuine, impostor = [], []
    for i, j in combinations(good.tolist(), 2):
        (genuine if truth[i] == truth[j] else impostor).append(float(np.linalg.norm(vectors[i] - vectors[j])))
    return {"genuine_mean": round(float(np.mean(genuine)), 3), "genuine_sd": round(float(np.std(genuine)), 3),
            "impostor_mean": round(float(np.mean(impostor)), 3), "impostor_sd": round(float(np.std(impostor)), 3),
            "genuine_pairs": len(genuine), "impostor_pairs": len(impostor)}


def synthetic(n: int, measured: dict, dim: int = 128, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """`n` faces of Zipf-sized identities with the measured spread (see the module docstring).

    In 128-D a Gaussian's distances concentrate around their mean, so the spread is put in by hand:
    each identity's centre sits at its own distance from the others (a scale drawn per identity),
    and each face strays its own amount (a scale drawn per face), both matched to the measured
    standard deviations of impostor and genuine distances.
    """
    rng = np.random.default_rng(seed)
    sizes = []
    while sum(sizes) < n:
        sizes.append(int(min(rng.zipf(1.8), 200)))
    sizes[-1] -= sum(sizes) - n
    people = len(sizes)
    unit = 1 / np.sqrt(2 * dim)  # per-coordinate sd that puts two independent draws 1.0 apart on average
    centre_scale = np.clip(rng.normal(1, measured["impostor_sd"] / measured["impostor_mean"] * 1.8, people), 0.3, 2)
    apart = np.sqrt(measured["impostor_mean"] ** 2 - measured["genuine_mean"] ** 2)  # faces add their own stray
    centres = rng.normal(0, apart * unit, (people, dim)) * centre_scale[:, None]
    labels = np.repeat(np.arange(people), sizes)
    face_scale = np.clip(rng.normal(1, measured["genuine_sd"] / measured["genuine_mean"] * 1.4, n), 0.2, 3)
    noise = rng.normal(0, measured["genuine_mean"] * unit, (n, dim)) * face_scale[:, None]
    return (centres[labels] + noise).astype(np.float32), labels


def synthetic_spread(vectors: np.ndarray, labels: np.ndarray, pairs: int = 20000, seed: int = 1) -> dict:
    """The synthetic faces' genuine / impostor distances, to compare with the measured ones."""
    rng = np.random.default_rng(seed)
    i, j = rng.integers(0, len(vectors), (2, pairs * 20))
    same = (labels[i] == labels[j]) & (i != j)
    d = np.linalg.norm(vectors[i] - vectors[j], axis=1)
    return {"genuine_mean": round(float(d[same].mean()), 3), "genuine_sd": round(float(d[same].std()), 3),
            "impostor_mean": round(float(d[~same].mean()), 3), "impostor_sd": round(float(d[~same].std()), 3)}


def _peak_mb() -> float:
    """This process's peak resident memory (VmHWM: reset by exec, unlike ru_maxrss, which a spawned child
    inherits from the parent it was forked from)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError("no VmHWM in /proc/self/status: this benchmark measures memory on Linux")


def _timed(n: int, measured: dict, distance: float, queue: multiprocessing.Queue) -> None:
    baseline_mb = _peak_mb()
    vectors, _ = synthetic(n, measured)
    start = time.perf_counter()
    graph = knn_graph(vectors, NEIGHBOURS, distance)
    graph_s = time.perf_counter() - start
    members = groups(chinese_whispers(graph, distance), MIN_SIZE)
    seconds = time.perf_counter() - start
    peak_mb = _peak_mb()
    predicted = _to_labels(n, members)
    queue.put({"faces": n, "seconds": round(seconds, 2), "knn_graph_seconds": round(graph_s, 2),
               "edges": len(graph.rows), "clusters": len(members),
               "unclustered": int((predicted < 0).sum()), "peak_rss_mb": round(peak_mb, 1),
               "rss_before_mb": round(baseline_mb, 1),
               "input_mb": round(vectors.nbytes / 2**20, 1)})


def _timed_db(n: int, measured: dict, distance: float, queue: multiprocessing.Queue) -> None:
    """`clustering.cluster_faces` end to end on a fresh SQLite library of `n` faces: read, cluster, write back."""
    import os
    import tempfile

    from sqlalchemy import insert

    with tempfile.TemporaryDirectory() as folder:
        os.environ["WEBTUBE_DATA_DIR"] = folder
        os.environ.pop("DATABASE_URL", None)
        os.environ["WEBTUBE_STUDIO_CLUSTER_DISTANCE"] = str(distance)
        from core.storage.database import session_scope
        from core.storage.studio_models import Face, Photo
        from core.studio import clustering
        from core.studio.owners import resolve_owner

        owner_id = resolve_owner(None)
        vectors, _ = synthetic(n, measured)
        with session_scope() as session:
            photo = Photo(owner_id=owner_id, sha256="0" * 64, original_name="synthetic.jpg", origin="synthetic",
                          status="processed")
            session.add(photo)
            session.flush()
            session.execute(insert(Face), [
                {"photo_id": photo.id, "owner_id": owner_id, "x1": 0.0, "y1": 0.0, "x2": 1.0, "y2": 1.0,
                 "score": 0.99, "landmarks": "[]", "quality_ok": True, "quality_reasons": "", "embedder": "dlib",
                 "dim": vectors.shape[1], "embedding": v.astype("<f4").tobytes()} for v in vectors])
        baseline_mb = _peak_mb()
        start = time.perf_counter()
        run = clustering.cluster_faces(owner_id)
        seconds = time.perf_counter() - start
        queue.put({"faces": n, "seconds": round(seconds, 2), "clusters": len(run.clusters),
                   "unclustered": len(run.unclustered), "rss_before_mb": round(baseline_mb, 1),
                   "peak_rss_mb": _peak_mb()})


def scale(n: int, measured: dict, distance: float, target: Callable = _timed) -> dict:
    """One size in a fresh process, so its peak memory is its own."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    worker = context.Process(target=target, args=(n, measured, distance, queue))
    worker.start()
    result = queue.get()
    worker.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    args = parser.parse_args()
    from core.faces.engine import get_engine

    engine = get_engine()
    embedder = engine.settings.embedder
    calibrated = CALIBRATED[embedder]
    chosen_distance = calibrated.signin
    distances = sorted({round(calibrated.signin * f, 3) for f in (0.8, 0.9, 1.0)} | {calibrated.verify})
    vectors, truth, ok = labelled_faces()
    measured = spread(vectors, truth, ok)
    quality = evaluate(vectors, truth, ok, distances)
    best = max(((name, d, s) for name, by_d in quality.items() for d, s in by_d.items()),
               key=lambda item: (item[2]["f1"], item[2]["bcubed_f1"]))
    synth_vectors, synth_truth = synthetic(2000, measured)
    synth_quality = {name: scores(synth_truth.tolist(), run(synth_vectors, chosen_distance))
                     for name, run in ALGORITHMS.items()}
    print(json.dumps({
        "embedder": embedder,
        "labelled": {"faces": len(truth), "good_quality": int(ok.sum()), "identities": len(set(truth)),
                     "strangers": sum(t.startswith("stranger") for t in truth), **measured},
        "quality": quality,
        "best_on_labelled": {"algorithm": best[0], "distance": float(best[1]), **best[2]},
        "chosen": {"algorithm": "chinese_whispers", "distance": chosen_distance,
                   **quality["chinese_whispers"][f"{chosen_distance:.2f}"]},
        "synthetic": {"faces": 2000, "distance": chosen_distance,
                      "spread": synthetic_spread(synth_vectors, synth_truth), "scores": synth_quality},
        "scale": [scale(n, measured, chosen_distance) for n in args.sizes],
        "scale_through_database": [scale(n, measured, chosen_distance, _timed_db) for n in args.sizes],
        "how_100k_fits": "exact kNN by blocks of rows (block x n distances, 128 MB, at a time), k=20 neighbours "
                         "within the link distance kept per face, so memory is O(n k), not the 40 GB n^2 matrix",
    }, indent=1))


if __name__ == "__main__":
    main()
