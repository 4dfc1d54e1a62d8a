"""`python -m core faces evaluate DIR`: how well each embedder tells people apart on labelled photos.

DIR holds one folder per person (every pair of photos is scored: same folder is a genuine pair,
different folders an impostor pair), or DIR is a pairs file: one `PATH PATH 1|0` line per pair,
paths relative to the file, 1 for the same person. Each photo contributes its largest good face.
The answer (stdout, JSON) and a report folder (report.json, report.md, roc.png, det.png) give,
per embedder and side by side: accuracy, precision, recall and F1 at the configured thresholds,
the threshold for a false-accept rate of 1 in 1,000 and 1 in 10,000, and the equal error rate.
A rate finer than one impostor pair in the data cannot be measured; such entries say so.
When several embedders are evaluated, their fusion (the mean of each one's distance divided by its
verify threshold) is scored too, so whether fusing helps is measured rather than assumed.
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from core.config import Settings, get_settings
from core.faces.errors import ImageError, NoFaceFound, PoorQualityFace
from core.faces.images import load_image
from core.faces.thresholds import CALIBRATED

if TYPE_CHECKING:
    from core.faces.engine import FaceEngine

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}
TARGET_FARS = {"1e-3": 1e-3, "1e-4": 1e-4}


@dataclass(frozen=True)
class Pair:
    first: Path
    second: Path
    same: bool


def read_pairs(source: Path) -> list[Pair]:
    """Every pair of a person-per-folder directory, or the pairs listed in a file; refuses anything else."""
    if source.is_file():
        return _pairs_file(source)
    if not source.is_dir():
        raise ImageError(f"{source} is neither a folder of people nor a pairs file.")
    photos = [
        (person.name, photo)
        for person in sorted(p for p in source.iterdir() if p.is_dir())
        for photo in sorted(person.iterdir())
        if photo.suffix.lower() in IMAGE_SUFFIXES
    ]
    if len({name for name, _ in photos}) < 2:
        raise ImageError(f"{source} needs at least two folders of photos, one per person.")
    return [Pair(a, b, who_a == who_b) for (who_a, a), (who_b, b) in itertools.combinations(photos, 2)]


def _pairs_file(path: Path) -> list[Pair]:
    pairs = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        if len(fields) != 3 or fields[2] not in {"0", "1"}:
            raise ImageError(f"{path}, line {number}: expected `PATH PATH 1|0`, got {line.strip()!r}.")
        pairs.append(Pair(path.parent / fields[0], path.parent / fields[1], fields[2] == "1"))
    if not pairs:
        raise ImageError(f"{path} lists no pairs.")
    return pairs


def engine_for(settings: Settings, name: str) -> FaceEngine:
    """An engine with `name` as its embedder; threshold overrides apply only to the configured embedder."""
    from core.faces.engine import FaceEngine  # here: `python -m core faces` answers a bad path without torch

    own = name == settings.embedder
    return FaceEngine(settings.model_copy(update={
        "embedder": name,
        "verify_threshold": settings.verify_threshold if own else None,
        "signin_threshold": settings.signin_threshold if own else None,
    }))


def embed_photos(engine: FaceEngine, photos: Sequence[Path]) -> tuple[dict[Path, np.ndarray], dict[str, str]]:
    """Each photo's largest good face embedded; photos without one are kept aside with the reason."""
    vectors, skipped = {}, {}
    for photo in photos:
        try:
            vectors[photo] = engine.largest_good_face(load_image(photo))[0].embedding
        except (ImageError, NoFaceFound, PoorQualityFace) as exc:  # this photo's fault; a missing model is not
            skipped[str(photo)] = str(exc)
    return vectors, skipped


def rates_at(genuine: np.ndarray, impostor: np.ndarray, threshold: float) -> dict[str, float | None]:
    """Decision quality when "same person" means distance <= threshold."""
    tp, fn = int((genuine <= threshold).sum()), int((genuine > threshold).sum())
    fp, tn = int((impostor <= threshold).sum()), int((impostor > threshold).sum())
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = 2 * precision * recall / (precision + recall) if precision and recall else 0.0
    return {
        "threshold": round(threshold, 4),
        "accuracy": round((tp + tn) / (tp + tn + fp + fn), 4),
        "precision": None if precision is None else round(precision, 4),
        "recall": None if recall is None else round(recall, 4),
        "f1": round(f1, 4),
        "false_accept_rate": round(fp / len(impostor), 6) if len(impostor) else None,
        "false_reject_rate": round(fn / len(genuine), 6) if len(genuine) else None,
    }


def threshold_at_far(genuine: np.ndarray, impostor: np.ndarray, target: float) -> dict[str, object]:
    """The largest threshold whose false-accept rate is at most `target`, and what it costs in rejections.

    With fewer than 1/target impostor pairs the rate cannot be resolved: the answer is then the
    threshold that lets no impostor pair of the data through, marked `measurable: false`.
    """
    ordered = np.sort(impostor)
    allowed = int(np.floor(target * len(ordered)))
    threshold = float(np.nextafter(ordered[allowed], -np.inf)) if allowed < len(ordered) else float(ordered[-1])
    threshold = float(np.floor(threshold * 1e4) / 1e4)  # rounded down, so the printed value keeps the rate
    return {
        "threshold": threshold,
        "false_reject_rate": round(float((genuine > threshold).mean()), 4) if len(genuine) else None,
        "measurable": len(ordered) * target >= 1,
        "impostor_pairs": len(ordered),
    }


def sweep(genuine: np.ndarray, impostor: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Thresholds at every observed distance, with the false-accept and false-reject rate at each."""
    thresholds = np.unique(np.concatenate([genuine, impostor, [0.0]]))
    far = np.searchsorted(np.sort(impostor), thresholds, side="right") / max(len(impostor), 1)
    frr = 1.0 - np.searchsorted(np.sort(genuine), thresholds, side="right") / max(len(genuine), 1)
    return thresholds, far, frr


def equal_error_rate(genuine: np.ndarray, impostor: np.ndarray) -> dict[str, float]:
    """Where false accepts and false rejects are (nearly) equal, and the threshold there."""
    thresholds, far, frr = sweep(genuine, impostor)
    best = int(np.argmin(np.abs(far - frr) + 1e-9 * thresholds))  # ties: the stricter threshold
    return {"eer": round(float((far[best] + frr[best]) / 2), 4), "threshold": round(float(thresholds[best]), 4)}


def summary(genuine: np.ndarray, impostor: np.ndarray, thresholds: dict[str, float]) -> dict[str, object]:
    """Everything the report says about one embedder's distances."""
    return {
        "pairs": {"genuine": len(genuine), "impostor": len(impostor)},
        "genuine_distance": {"mean": round(float(genuine.mean()), 4), "worst": round(float(genuine.max()), 4)},
        "impostor_distance": {"mean": round(float(impostor.mean()), 4), "closest": round(float(impostor.min()), 4)},
        "at_thresholds": {name: rates_at(genuine, impostor, value) for name, value in thresholds.items()},
        "threshold_at_far": {name: threshold_at_far(genuine, impostor, far) for name, far in TARGET_FARS.items()},
        "equal_error_rate": equal_error_rate(genuine, impostor),
    }


def evaluate(source: Path, names: Sequence[str], settings: Settings, report_dir: Path | None) -> dict[str, object]:
    """Score every pair with every named embedder (and their fusion), write the report, return its JSON."""
    pairs = read_pairs(source)
    photos = sorted({p.first for p in pairs} | {p.second for p in pairs})
    vectors, thresholds, skipped = {}, {}, {}
    for name in names:
        engine = engine_for(settings, name)
        vectors[name], missing = embed_photos(engine, photos)
        skipped.update(missing)
        thresholds[name] = {"verify": engine.verify_threshold, "signin": engine.signin_threshold}
    usable = [p for p in pairs if all(p.first in v and p.second in v for v in vectors.values())]
    same = np.array([p.same for p in usable], dtype=bool)
    if same.all() or not same.any():
        raise ImageError(f"{source}: the usable photos give no genuine or no impostor pair to compare.")
    dists = {
        name: np.array([np.linalg.norm(vectors[name][p.first] - vectors[name][p.second]) for p in usable])
        for name in names
    }
    if len(names) > 1:
        fused = "+".join(names)
        dists[fused] = np.mean([dists[n] / thresholds[n]["verify"] for n in names], axis=0)
        thresholds[fused] = {"verify": 1.0, "signin": float(np.mean([t["signin"] / t["verify"] for t in
                                                                      (thresholds[n] for n in names)]))}
    result: dict[str, object] = {
        "dataset": str(source),
        "photos": len(photos),
        "skipped": skipped,
        "embedders": {name: summary(d[same], d[~same], thresholds[name]) for name, d in dists.items()},
    }
    if report_dir is not None:
        result["report"] = write_report(report_dir, result, {name: (d[same], d[~same]) for name, d in dists.items()})
    return result


def write_report(folder: Path, result: dict[str, object], scores: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict:
    """report.json, a readable report.md and the ROC and DET curves as PNG; returns the files' paths."""
    from core.faces.evaluation_plots import plot_det, plot_roc

    folder.mkdir(parents=True, exist_ok=True)
    files = {"json": folder / "report.json", "markdown": folder / "report.md",
             "roc": folder / "roc.png", "det": folder / "det.png"}
    curves = {name: sweep(genuine, impostor) for name, (genuine, impostor) in scores.items()}
    plot_roc(curves, files["roc"])
    plot_det(curves, files["det"])
    paths = {key: str(path) for key, path in files.items()}
    files["json"].write_text(json.dumps({**result, "report": paths}, indent=2), encoding="utf-8")
    files["markdown"].write_text(markdown(result), encoding="utf-8")
    return paths


def markdown(result: dict[str, object]) -> str:
    """The side-by-side table people read: one row per embedder."""
    lines = [
        f"# Face embedders on {result['dataset']}",
        "",
        f"{result['photos']} photos, {len(result['skipped'])} without a usable face. Distances: lower is more alike.",
        "",
        "| embedder | pairs (genuine / impostor) | EER | verify: threshold, accuracy, precision, recall, F1 "
        "| sign-in: threshold, FAR, FRR | threshold at FAR 1e-3 | threshold at FAR 1e-4 |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, entry in result["embedders"].items():  # type: ignore[union-attr]
        verify, signin = entry["at_thresholds"]["verify"], entry["at_thresholds"]["signin"]
        far = {k: f"{v['threshold']}" + ("" if v["measurable"] else " (not measurable)")
               for k, v in entry["threshold_at_far"].items()}
        lines.append(
            f"| {name} | {entry['pairs']['genuine']} / {entry['pairs']['impostor']} "
            f"| {entry['equal_error_rate']['eer']} "
            f"| {verify['threshold']}, {verify['accuracy']}, {verify['precision']}, {verify['recall']}, {verify['f1']} "
            f"| {signin['threshold']}, {signin['false_accept_rate']}, {signin['false_reject_rate']} "
            f"| {far['1e-3']} | {far['1e-4']} |"
        )
    return "\n".join(lines) + "\n"


def add_evaluate_command(commands: argparse._SubParsersAction) -> None:
    """Register `evaluate DIR [--embedder NAME ...] [--report DIR]` on the faces command line."""
    command = commands.add_parser("evaluate", help="ROC/DET, accuracy and thresholds of embedders on labelled photos")
    command.add_argument("source", type=Path, help="a folder with one folder per person, or a pairs file")
    command.add_argument("--embedder", action="append", choices=sorted(CALIBRATED), dest="embedders",
                         help="repeat to compare several side by side (default: the configured one)")
    command.add_argument("--report", type=Path, default=Path("artifacts/evaluation"), help="folder for the report")


def evaluate_command(args: argparse.Namespace) -> dict[str, object]:
    """The `evaluate` subcommand's answer, with the configured embedder when none is named."""
    settings = get_settings()
    return evaluate(args.source, list(dict.fromkeys(args.embedders or [settings.embedder])), settings, args.report)
