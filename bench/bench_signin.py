"""Face sign-in benchmark: frame-to-decision latency, preview frame rate, and the false-accept check.

Run: `.venv/bin/python -m bench.bench_signin [--seconds S] [--no-browser]`; prints JSON.

- latency: a simulated 30 fps, 640x480 camera goes through the real server-side path: VP8 decode,
  the page's own video callback (hand-over to the latest-frame-wins worker, overlay), VP8 encode
  (aiortc's encoder). The worker runs the real `LiveSignIn` on a real database; latency is from a
  frame's arrival in the callback to the sign-in decision updated from it (p50, p95), over the
  frames the worker processed. The preview rate is how many frames that path returned per second.
- browser: the real app in headless Chromium with a 30 fps fake camera, while recognising: frames
  per second that came back from the server (received) and that the page's <video> put on screen
  (preview; Chromium and the server share this machine's cores).
- false accepts: every photo in tests/data/faces/people, every different-person pair at the
  sign-in threshold, and 1:N leave-one-out identification with the sign-in margin.
- liveness: the live sign-in over the real head turn in the clip (as filmed and mirrored) at
  several analysis rates and phases, and over the photo attacks (a photo alternating with its
  mirror image, slideshows of poses, a still photo): how many signed in; `--only-liveness` runs
  just this part.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import statistics
import tempfile
import time
from collections import Counter
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from aiortc.codecs.vpx import Vp8Encoder

from bench.preview_fps import PREVIEW_FPS_JS
from core.config import get_settings
from core.faces.engine import get_engine
from core.faces.images import load_image
from core.faces.matching import distance, distances, identify
from core.faces.quality import MIN_SCORE
from tests.support.fake_camera import still_y4m, webcam_frame
from tests.support.paths import FACES_DIR as FACES

CAMERA = FACES / "people" / "obama" / "obama_2.jpg"
ENROLLED = {"Ann": "people/obama/obama_1.jpg", "Bob": "people/biden/biden_1.jpg"}


def _percentile(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 1)


def _use_fresh_site(data_dir: Path, liveness_timeout_s: float) -> None:
    """A throw-away database with two enrolled accounts; liveness on with a long head-turn window,
    so every frame of the run is analysed and decided on (a still photo never completes it)."""
    os.environ.update(
        WEBTUBE_DATA_DIR=str(data_dir),
        WEBTUBE_BCRYPT_ROUNDS="4",
        WEBTUBE_LIVENESS="true",
        WEBTUBE_LIVENESS_TIMEOUT_S=str(liveness_timeout_s),
    )
    os.environ.pop("DATABASE_URL", None)
    get_settings.cache_clear()
    from core.accounts.users import register
    from core.face_signin.enrolment import enrol_photo

    for name, photo in ENROLLED.items():
        user = register(name, f"{name.lower()}@example.com", "a long enough password", "a long enough password")
        enrol_photo(user.id, (FACES / photo).read_bytes(), keep_image=False)


def _vp8_packets(rgb: np.ndarray, count: int) -> list[av.Packet]:
    """The camera's frames as the browser sends them: VP8, 640x480."""
    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height, encoder.pix_fmt = rgb.shape[1], rgb.shape[0], "yuv420p"
    encoder.bit_rate, encoder.time_base = 1_000_000, Fraction(1, 30)
    encoder.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    packets = []
    for index in range(count):
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
        frame.pts = index
        packets.extend(encoder.encode(frame))
    packets.extend(encoder.encode(None))
    return packets


def bench_pipeline(seconds: float, fps: int = 30) -> dict:
    """Simulated camera through decode, the page's callback and encode, with the worker deciding."""
    from core.face_signin.live import LiveSignIn
    from core.faces.live_frames import LatestFrameWorker
    from pages.ui.live_camera import frame_callback

    rgb = webcam_frame(CAMERA)
    live = LiveSignIn()
    worker = LatestFrameWorker(live.process)
    on_frame = frame_callback(worker)
    packets = _vp8_packets(rgb, int(seconds * fps) + 1)
    decoder = av.CodecContext.create("libvpx", "r")
    encoder = Vp8Encoder()
    get_engine().analyse(rgb)  # models loaded and warm, as in a running server
    callback_ms, path_ms, delivered = [], [], 0
    start = time.monotonic()
    for index, packet in enumerate(packets):
        due = start + index / fps
        if time.monotonic() < due:
            time.sleep(due - time.monotonic())
        began = time.perf_counter()
        for frame in decoder.decode(packet):
            frame.pts, frame.time_base = index * 3000, Fraction(1, 90000)
            called = time.perf_counter()
            out = on_frame(frame)
            callback_ms.append((time.perf_counter() - called) * 1000)
            out.pts, out.time_base = frame.pts, frame.time_base
            encoder.encode(out)
            delivered += 1
        path_ms.append((time.perf_counter() - began) * 1000)
    elapsed = time.monotonic() - start
    latencies = list(worker.latencies_ms)
    return {
        "frame": "640x480",
        "camera_fps": fps,
        "seconds": round(elapsed, 1),
        "frames_in": worker.submitted,
        "frames_analysed": worker.processed,
        "phase_at_end": live.status().progress.phase.value,
        "frame_to_decision_ms": {"p50": _percentile(latencies, 50), "p95": _percentile(latencies, 95)},
        "callback_ms": {"p50": _percentile(callback_ms, 50), "p95": _percentile(callback_ms, 95)},
        "decode_callback_encode_ms": {"p50": _percentile(path_ms, 50), "p95": _percentile(path_ms, 95)},
        "preview_fps": round(delivered / elapsed, 1),
    }


def bench_time_to_sign_in(runs: int = 5) -> dict:
    """Liveness off: seconds from the first frame to "signed in", at 15 fps, the worker deciding."""
    from core.face_signin.decision import Phase
    from core.face_signin.live import LiveSignIn
    from core.faces.live_frames import LatestFrameWorker

    os.environ["WEBTUBE_LIVENESS"] = "false"
    get_settings.cache_clear()
    rgb = webcam_frame(CAMERA)
    times = []
    for _ in range(runs):
        live = LiveSignIn()
        worker = LatestFrameWorker(live.process)
        start = time.monotonic()
        while live.status().progress.phase is not Phase.SIGNED_IN:
            worker.submit(rgb.copy())
            time.sleep(1 / 15)
        times.append(time.monotonic() - start)
    rules = live.rules
    return {"votes_needed": rules.votes, "window": rules.window, "median_s": round(statistics.median(times), 2)}


def bench_browser(data_dir: Path, seconds: float) -> dict:
    """The real app in Chromium: frames per second the page's preview presents while recognising."""
    from playwright.sync_api import sync_playwright

    from tests.support.app_server import launch_chromium, run_app_server
    from tests.support.face_app import open_sign_in
    from tests.support.webrtc_driver import start_camera

    camera = still_y4m(CAMERA, data_dir / "camera.y4m", seconds=4, fps=30)
    env = {"WEBTUBE_LIVENESS": "true", "WEBTUBE_LIVENESS_TIMEOUT_S": str(seconds + 60)}
    args = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
    with run_app_server(data_dir, env=env) as server, sync_playwright() as playwright:
        browser = launch_chromium(playwright, [*args, f"--use-file-for-fake-video-capture={camera}"])
        page = browser.new_page()
        open_sign_in(page, server)
        start_camera(page)
        page.get_by_text("Recognised, now turn your head to your").wait_for(timeout=90_000)
        iframe = next(f for f in page.frames if f.url and "streamlit_webrtc" in f.url)
        received, presented = iframe.evaluate(PREVIEW_FPS_JS, [seconds * 1000])
        browser.close()
    return {
        "camera_fps": 30,
        "seconds": seconds,
        "received_fps": round(received, 1),
        "preview_fps": round(presented, 1),
    }


def bench_false_accepts() -> dict:
    """Every different-person pair at the sign-in threshold, and 1:N leave-one-out with the margin."""
    engine = get_engine()
    photos = sorted(p for p in (FACES / "people").glob("*/*") if p.suffix.lower() in {".jpg", ".png"})
    people = [p.parent.name for p in photos]
    vectors = [engine.largest_good_face(load_image(p))[0].embedding for p in photos]
    genuine, impostor = [], []
    for i, j in itertools.combinations(range(len(photos)), 2):
        (genuine if people[i] == people[j] else impostor).append(distance(vectors[i], vectors[j]))
    outcome = {"right": 0, "unknown": 0, "wrong": 0}
    margins = []
    for i in range(len(photos)):
        rest = [k for k in range(len(photos)) if k != i]
        if people[i] not in {people[k] for k in rest}:
            continue  # nobody to recognise: covered by the impostor pairs
        found = identify(
            vectors[i],
            np.stack([vectors[k] for k in rest]),
            [people[k] for k in rest],
            engine.signin_threshold,
            engine.signin_margin,
        )
        key = "unknown" if found.label is None else "right" if found.label == people[i] else "wrong"
        outcome[key] += 1
        if found.label is not None:
            margins.append(found.margin)
    threshold = engine.signin_threshold
    return {
        "photos": len(photos),
        "people": len(set(people)),
        "signin_threshold": threshold,
        "signin_margin": engine.signin_margin,
        "impostor_pairs": len(impostor),
        "impostor_pairs_accepted": sum(d <= threshold for d in impostor),
        "smallest_impostor_distance": round(min(impostor), 3),
        "genuine_pairs": len(genuine),
        "genuine_pairs_within_threshold": sum(d <= threshold for d in genuine),
        "largest_genuine_distance": round(max(genuine), 3),
        "identify_leave_one_out": outcome,
        "smallest_winning_margin": round(min(margins), 3) if margins else None,
    }


def bench_video_genuine() -> dict:
    """Webcam-like calibration from the clip: Lin-Manuel Miranda enrolled from 3 frames of its first
    half (different poses, as the live enrolment takes them), recognised frame by frame in the second
    half against a gallery that also holds every other person's photos."""
    engine = get_engine()
    settings = get_settings()
    good = []
    with av.open(str(FACES / "video" / "short_hamilton_clip.mp4")) as clip:
        for index, frame in enumerate(clip.decode(video=0)):
            faces = [f for f in engine.analyse(frame.to_ndarray(format="rgb24")) if f.detection.score >= MIN_SCORE]
            if len(faces) == 1 and faces[0].quality.ok:
                good.append((index, faces[0]))
    middle = (good[0][0] + good[-1][0]) // 2
    first = [face for index, face in good if index < middle]
    second = [face for index, face in good if index >= middle]
    enrolled = [first[0], min(first, key=lambda f: f.quality.yaw), max(first, key=lambda f: f.quality.yaw)]
    others = sorted(p for p in (FACES / "people").glob("*/*") if "lin_manuel" not in p.parent.name)
    gallery = [f.embedding for f in enrolled] + [engine.largest_good_face(load_image(p))[0].embedding for p in others]
    labels = ["lin"] * len(enrolled) + [p.parent.name for p in others]
    own = np.stack(gallery[: len(enrolled)])
    genuine = [float(distances(f.embedding, own).min()) for f in second]
    impostor = [float(distances(g, own).min()) for g in gallery[len(enrolled) :]]
    matrix = np.stack(gallery)
    threshold, margin = engine.signin_threshold, engine.signin_margin
    p = float(np.mean([identify(f.embedding, matrix, labels, threshold, margin).label == "lin" for f in second]))
    k, n = settings.signin_votes, settings.signin_window
    k_of_n = sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1))
    return {
        "test_frames": len(second),
        "genuine_distance": {"median": round(statistics.median(genuine), 3), "max": round(max(genuine), 3)},
        "smallest_impostor_distance_to_enrolment": round(min(impostor), 3),
        "per_frame_accept_rate": round(p, 3),
        "k_of_n_accept_probability": round(k_of_n, 4),
    }


def _liveness_attempts(live, sequences: list, every_s: float, offsets: list[float]) -> dict:
    """Run each frame sequence through `live` at one analysis rate and each phase; count the outcomes."""
    from tests.support.frame_sequences import analysed

    outcomes: Counter[str] = Counter()
    for frames in sequences:
        for offset in offsets:
            live.start()
            start = time.monotonic()
            for at, rgb in analysed(frames, every_s, offset):
                live.process(rgb, start + at)
            outcomes[live.status().progress.phase.value] += 1
    return dict(outcomes)


def bench_liveness() -> dict:
    """The real head turn must pass and the photo attacks must not, at the rates the live path reaches."""
    from core.accounts.users import register
    from core.face_signin.enrolment import candidate, enrol
    from core.face_signin.live import LiveSignIn
    from core.faces.liveness import Move
    from tests.support.frame_sequences import CachedEngine, clip_frames, mirrored, photo, show

    os.environ.update(WEBTUBE_LIVENESS="true", WEBTUBE_LIVENESS_TIMEOUT_S="4", WEBTUBE_LOGIN_MAX_FAILURES="1000")
    get_settings.cache_clear()
    engine = CachedEngine(get_engine())
    report: dict = {"genuine_clip": {}}
    offsets = [0.0, 0.03, 0.05]
    clips = {mirror: clip_frames(FACES, mirror=mirror) for mirror in (False, True)}
    lin = register("Lin", "lin@example.com", "a long enough password", "a long enough password")
    enrolment = [rgb for frames in clips.values() for at, rgb in frames if 2.8 <= at <= 3.2][::5]
    enrol(lin.id, [candidate(rgb, engine.single_face(rgb)) for rgb in enrolment], keep_images=False)
    for mirror, frames in clips.items():
        side = Move.LEFT if mirror else Move.RIGHT
        live = LiveSignIn(engine=engine, choose_moves=lambda count, side=side: (side, Move.CENTRE, side))
        report["genuine_clip"]["mirrored" if mirror else "as_filmed"] = {
            f"{1 / every:.1f}_fps": _liveness_attempts(live, [frames], every, offsets)
            for every in (0.067, 0.1, 0.133, 0.2)
        }
    pictures = {name: photo(FACES, f"people/obama/{name}.jpg") for name in ("obama_1", "obama_2", "obama_4")}
    flips = [show([(pictures[n], 1.5), (mirrored(pictures[n]), 1.5)] * 6) for n in ("obama_2", "obama_4")]
    slides = [
        show([(pictures[n], s) for n, s in [("obama_2", 2.0), ("obama_4", 1.5), ("obama_1", 4.0), ("obama_2", 3.0)]]),
        show([(pictures[n], s) for n, s in [("obama_4", 3.0), ("obama_2", 4.0), ("obama_1", 1.5), ("obama_4", 2.0)]]),
    ]
    still = [show([(pictures["obama_2"], 6.0)])]
    live = LiveSignIn(engine=engine)
    phases = [0.0, 0.19, 0.38, 0.57]
    report["attacks_on_ann_at_10_fps"] = {
        "photo_and_its_mirror_every_1.5s": _liveness_attempts(live, flips, 0.1, phases),
        "slideshow_of_poses": _liveness_attempts(live, slides, 0.1, phases),
        "still_photo": _liveness_attempts(live, still, 0.1, [0.0]),
    }
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--only-liveness", action="store_true")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-signin-") as folder:
        data_dir = Path(folder)
        _use_fresh_site(data_dir, liveness_timeout_s=options.seconds + 60)
        if options.only_liveness:
            print(json.dumps({"liveness": bench_liveness()}, indent=2))
            return
        load_before = os.getloadavg()[0]
        report = {
            "machine": {"cpus": os.cpu_count(), "load_1min_before": round(load_before, 2)},
            "device": str(get_engine().device),
            "pipeline": bench_pipeline(options.seconds),
        }
        if not options.no_browser:
            report["browser"] = bench_browser(data_dir, options.seconds)
        report["time_to_sign_in_liveness_off"] = bench_time_to_sign_in()
        report["false_accepts"] = bench_false_accepts()
        report["video_genuine"] = bench_video_genuine()
        report["liveness"] = bench_liveness()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
