"""`python -m core faces detect|embed|verify IMG...`: the face engine from the shell, as JSON.

Unreadable input exits with status 2 and one line on stderr, so scripts can rely on it: a folder,
a FIFO, a device, an empty, damaged or oversized file each get one sentence naming the path (no
traceback, no hang, no library wording: Pillow's warnings are silenced here). The face engine (torch and
the models, about 8 s of CPU) is imported only once an image has been read, so a bad first path is answered
at once.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path
from types import ModuleType

import numpy as np

from core.faces.errors import FaceError, ImageError
from core.faces.evaluation import add_evaluate_command, evaluate_command
from core.faces.images import load_image


def _load(path: Path) -> np.ndarray:
    """Decode one image, naming the file in the error so a batch says which input was bad."""
    try:
        return load_image(path)
    except ImageError as exc:
        raise ImageError(f"{path}: {exc}") from exc


def _answers() -> ModuleType:
    """The face engine's answers, imported once an image has been read: torch and the models cost about 8 s of
    CPU, and a bad path needs neither."""
    from core.faces import answers

    return answers


def _detect(paths: list[Path]) -> list[dict]:
    results = []
    for path in paths:
        image = _load(path)
        results.append({"image": str(path), "faces": _answers().detect_json(image)})
    return results


def _embed(paths: list[Path]) -> list[dict]:
    results = []
    for path in paths:
        image = _load(path)
        results.append({"image": str(path), **_answers().embed_json(image)})
    return results


def _verify(first: Path, second: Path) -> dict:
    images = [_load(path) for path in (first, second)]
    return {"images": [str(first), str(second)],
            **_answers().verify_json(images[0], images[1], (first.name, second.name))}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core faces", description="Run the face engine on images.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("detect", help="faces with boxes, scores, landmarks and quality").add_argument(
        "images", nargs="+", type=Path
    )
    commands.add_parser("embed", help="faces with their embedding vectors").add_argument(
        "images", nargs="+", type=Path
    )
    pair = commands.add_parser("verify", help="are the main faces of two images the same person?")
    pair.add_argument("first", type=Path)
    pair.add_argument("second", type=Path)
    add_evaluate_command(commands)
    return parser


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    warnings.filterwarnings("ignore", module="PIL")
    try:
        if args.command == "detect":
            result: object = _detect(args.images)
        elif args.command == "evaluate":
            result = evaluate_command(args)
        elif args.command == "embed":
            result = _embed(args.images)
        else:
            result = _verify(args.first, args.second)
    except ImageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except FaceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2))
    return 0
