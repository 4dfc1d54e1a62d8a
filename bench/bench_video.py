"""Video face analysis, end to end: seconds of video analysed per second of wall time, peak memory, accuracy.

Run: `make bench` or `.venv/bin/python -m bench.bench_video [--loops N] [--fps F]`. Prints one JSON object.
The video is the project's test clip (tests/data/faces/video, 640x360, 30 fps), played `--loops` times in a
row and scaled by ffmpeg to 640x360 and 1280x720. Each size runs in its own process on a fresh data
directory: two studio people are seeded first (Lin-Manuel Miranda, Alex Lacamoire, through the studio's
`add_face`), the models are warmed up, then `python -m core video analyse` does the whole job in process
(decode, detect, embed, track, merge, identify, thumbnails, the annotated H.264 copy, the rows) and is timed.
Peak memory is the process's maximum resident set (RSS). Accuracy ("who appears when") is measured on the
640x360 run's first loop: of the sampled frames inside the span where Lin-Manuel Miranda is alone on screen
(3.55-7.87 s, tests/data/faces/README.md), the fraction where he is named, and where nobody else is.
Target: at least 2x real time at 640x360 on 2 cores. The load average is printed beside the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.support.paths import FACES_DIR

CLIP = FACES_DIR / "video/short_hamilton_clip.mp4"
SIZES = {"640x360": (640, 360), "1280x720": (1280, 720)}
SEEDS = {"Lin-Manuel Miranda": "lin_manuel_miranda/lin_manuel_miranda_1.png",
         "Alex Lacamoire": "alex_lacamoire/alex_lacamoire_1.jpg"}
LIN_ALONE = (3.55, 7.87)


def make_clip(out: Path, size: tuple[int, int], loops: int) -> Path:
    """The test clip `loops` times in a row, scaled to `size`, H.264 (what people upload)."""
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-stream_loop", str(loops - 1), "-i", str(CLIP), "-vf",
                    f"scale={size[0]}:{size[1]}", "-c:v", "libx264", "-preset", "veryfast", "-c:a", "copy",
                    str(out)], check=True, timeout=600)
    return out


def _accuracy(export: dict, clip_s: float) -> dict:
    names = {p["id"]: p["name"] for p in export["people"]}
    inside = [f for f in export["frames"] if LIN_ALONE[0] <= f["t"] <= LIN_ALONE[1] and f["t"] < clip_s]
    named = [f for f in inside if "Lin-Manuel Miranda" in {names.get(face["person"]) for face in f["faces"]}]
    clean = [f for f in named if {names.get(face["person"]) for face in f["faces"]} <= {"Lin-Manuel Miranda"}]
    return {"sampled_frames_in_span": len(inside), "named_fraction": round(len(named) / max(len(inside), 1), 3),
            "named_and_no_one_else_fraction": round(len(clean) / max(len(inside), 1), 3)}


def _one_run(clip: Path, fps: float) -> dict:
    """In this process (environment already set): seed, warm up, then analyse the clip, timed."""
    import av

    from core.faces.engine import get_engine
    from core.studio.owners import resolve_owner
    from core.studio.recognise_add import add_face
    from core.video_analysis.cli import analyse_now

    owner = resolve_owner(None)
    for name, photo in SEEDS.items():
        add_face(owner, (FACES_DIR / "people" / photo).read_bytes(), 0, name=name)
    with av.open(str(clip)) as container:
        video_s = container.duration / av.time_base
        get_engine().analyse(next(container.decode(video=0)).to_ndarray(format="rgb24"))  # models loaded
    started = time.perf_counter()
    export = analyse_now(owner, str(clip), fps)
    wall = time.perf_counter() - started
    engine = get_engine()
    with av.open(str(CLIP)) as container:
        clip_s = container.duration / av.time_base
    return {
        "video_s": round(video_s, 2), "wall_s": round(wall, 2), "realtime_x": round(video_s / wall, 2),
        "sample_fps": fps, "sampled_frames": export["sampled_frames"], "people": len(export["people"]),
        "stage_s": export["timings_s"], "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "detector": engine.settings.detector, "embedder": engine.settings.embedder, "device": str(engine.device),
        "accuracy": _accuracy(export, clip_s),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loops", type=int, default=2, help="the test clip played this many times (about 10 s each)")
    parser.add_argument("--fps", type=float, default=5.0, help="sampling rate")
    parser.add_argument("--child", nargs=2, metavar=("CLIP", "FPS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_one_run(Path(args.child[0]), float(args.child[1]))))
        return
    load_before = os.getloadavg()
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-video-") as tmp:
        for label, size in SIZES.items():
            clip = make_clip(Path(tmp) / f"clip-{label}.mp4", size, args.loops)
            env = {**os.environ, "WEBTUBE_DATA_DIR": str(Path(tmp) / f"data-{label}"), "WEBTUBE_BCRYPT_ROUNDS": "4"}
            env.pop("DATABASE_URL", None)
            run = subprocess.run([sys.executable, "-m", "bench.bench_video", "--child", str(clip), str(args.fps)],
                                 env=env, capture_output=True, text=True, check=True, timeout=3600)
            results[label] = json.loads(run.stdout.strip().splitlines()[-1])
    accuracy = results["640x360"].pop("accuracy")
    results["1280x720"].pop("accuracy")
    print(json.dumps({"benchmark": "video_analysis", "cpu_cores": os.cpu_count(), "loops": args.loops,
                      "sizes": results, "accuracy_640x360": accuracy, "target_realtime_x_640x360": 2.0,
                      "load_average_before": [round(v, 2) for v in load_before],
                      "load_average_after": [round(v, 2) for v in os.getloadavg()]}, indent=2))


if __name__ == "__main__":
    main()
