"""Image intake memory benchmark: how much memory a small file that decodes large costs, as an avatar or a face.

    python -m bench.bench_memory

Prints JSON. Each file is made here at run time (nothing is downloaded or committed) and measured in
a fresh subprocess: the peak resident set during the call (VmHWM, reset just before it) minus the
resident set before it, with the file already in memory and the decoders warmed up, so the figure
is what the upload itself costs the server. "avatar" is `avatar_image(bytes)`, "face" is
`load_image(bytes)` as face uploads use it. The files are those of issue 8 (a ~116 KB PNG of
39.7 MP, RGBA and 16-bit grey PNGs of 40-49 MP, a float TIFF, a 40 MP JPEG) and the largest ones
still accepted; `together` runs three uploads at once on threads through the same entry point,
with the default number of decode slots and, for comparison, with one slot per upload.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from tests.support.paths import FACES_DIR

ISSUE_FILES = {  # name: (mode, width, height, format)
    "png_rgb_39.7mp_zeros": ("RGB", 7000, 5671, "PNG"),
    "png_rgba_45mp": ("RGBA", 7750, 5800, "PNG"),
    "png_grey16_49mp": ("I;16", 8100, 6050, "PNG"),
    "tiff_float_40mp": ("F", 7300, 5480, "TIFF"),
    "jpeg_40mp": ("RGB", 7300, 5480, "JPEG"),
}
LARGEST_ACCEPTED = {
    "png_rgba_16mp": ("RGBA", 4900, 3265, "PNG"),
    "png_grey16_12mp": ("I;16", 4000, 3000, "PNG"),
    "tiff_float_12mp": ("F", 4000, 3000, "TIFF"),
}
ISSUE_BEFORE_MB = {"png_rgb_39.7mp_zeros": 531, "png_rgba_45mp": 1000, "png_grey16_49mp": 1000, "tiff_float_40mp": 1300}


def _picture(mode: str, width: int, height: int, fmt: str) -> Image.Image:
    """Flat files compress to a few hundred KB, the attack's shape; the JPEG is a real face, upscaled."""
    if fmt == "JPEG":
        with Image.open(FACES_DIR / "people" / "obama" / "obama_2.jpg") as face:
            return face.convert("RGB").resize((width, height), Image.Resampling.BILINEAR)
    if mode == "I;16":
        return Image.fromarray(np.full((height, width), 1000, np.uint16))
    if mode == "F":
        return Image.fromarray(np.full((height, width), 0.5, np.float32))
    return Image.new(mode, (width, height), (40, 80, 120, 255)[: len(mode)])


def _make(folder: Path, name: str, spec: tuple[str, int, int, str]) -> Path:
    mode, width, height, fmt = spec
    path = folder / f"{name}.{fmt.lower()}"
    options = {"compression": "tiff_adobe_deflate"} if fmt == "TIFF" else {"quality": 90} if fmt == "JPEG" else {}
    _picture(mode, width, height, fmt).save(path, format=fmt, **options)
    return path


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024  # kB
    raise RuntimeError(f"{field} missing from /proc/self/status")


def _reset_peak() -> float:
    """Start the peak over from the present size; returns that size in MB.

    `ru_maxrss` alone is not enough: a child started by vfork+exec inherits its parent's peak, which
    here is hundreds of MB from making the files. Writing 5 to clear_refs resets the kernel's VmHWM.
    """
    Path("/proc/self/clear_refs").write_text("5")
    return _status_mb("VmRSS")


def _peak_mb() -> float:
    return max(_status_mb("VmHWM"), _status_mb("VmRSS"))


def _intake(use: str) -> Callable[[bytes], object]:
    from core.accounts.profiles import avatar_image
    from core.faces.images import load_image

    return avatar_image if use == "avatar" else load_image


def _outcome(entry: Callable[[bytes], object], data: bytes) -> str:
    try:
        result = entry(data)
    except Exception as exc:  # every refusal is reported, whatever its type
        return f"refused: {exc}"
    if isinstance(result, np.ndarray):
        return f"accepted as {result.shape[1]}x{result.shape[0]}"
    return f"accepted ({len(result)} bytes stored)"


def _child(use: str, paths: list[Path]) -> dict:
    """In a fresh process: peak memory of one upload, or of len(paths) uploads at once."""
    entry = _intake(use)
    blobs = [path.read_bytes() for path in paths]
    warm = Image.new("RGB", (64, 64))
    for fmt in ("PNG", "JPEG", "TIFF", "WEBP"):
        path = paths[0].parent / f"warm.{fmt.lower()}"
        warm.save(path, format=fmt)
        _outcome(entry, path.read_bytes())
    before = _reset_peak()
    start = time.perf_counter()
    outcomes: list[str] = [""] * len(blobs)
    barrier = threading.Barrier(len(blobs))

    def upload(index: int) -> None:
        barrier.wait()
        outcomes[index] = _outcome(entry, blobs[index])

    threads = [threading.Thread(target=upload, args=(i,)) for i in range(len(blobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {
        "peak_delta_mb": round(_peak_mb() - before, 1),
        "seconds": round(time.perf_counter() - start, 2),
        "outcomes": outcomes,
    }


def _measure(use: str, paths: list[Path], env: dict[str, str] | None = None) -> dict:
    command = [sys.executable, "-m", "bench.bench_memory", "--child", use, *map(str, paths)]
    done = subprocess.run(
        command, capture_output=True, text=True, check=True, env={**os.environ, **(env or {})},
        cwd=Path(__file__).resolve().parents[1],
    )
    return json.loads(done.stdout)


def _one(use: str, path: Path) -> dict:
    answer = _measure(use, [path])
    return {"peak_delta_mb": answer["peak_delta_mb"], "seconds": answer["seconds"], "outcome": answer["outcomes"][0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child[0], [Path(p) for p in args.child[1:]])))
        return
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        folder = Path(tmp)
        files = {name: _make(folder, name, spec) for name, spec in {**ISSUE_FILES, **LARGEST_ACCEPTED}.items()}
        report: dict = {"files": {}, "issue_before_mb": ISSUE_BEFORE_MB}
        for name, path in files.items():
            mode, width, height, _ = {**ISSUE_FILES, **LARGEST_ACCEPTED}[name]
            report["files"][name] = {
                "file_kb": round(path.stat().st_size / 1024, 1),
                "pixels_mp": round(width * height / 1e6, 1),
                "mode": mode,
                "avatar": _one("avatar", path),
                "face": _one("face", path),
            }
        heavy = [files["png_rgba_16mp"]] * 3
        report["together"] = {
            "three_issue_pngs_as_avatars": _measure("avatar", [files["png_rgb_39.7mp_zeros"]] * 3),
            "three_16mp_rgba_avatars": _measure("avatar", heavy),
            "three_16mp_rgba_avatars_3_slots": _measure("avatar", heavy, {"WEBTUBE_HEAVY_DECODES": "3"}),
            "three_40mp_jpegs_as_faces": _measure("face", [files["jpeg_40mp"]] * 3),
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
