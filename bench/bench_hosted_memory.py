"""Memory of one app server as Streamlit Community Cloud would run it (at most about 2.7 GB for an app).

    python -m bench.bench_hosted_memory

Prints JSON: the server process's resident memory at rest (first page drawn), after the face models
load (one face sign-in), and its peak while three people sign in by face in three Chromium
windows at once and a fourth uploads an avatar. Real models, real browsers, the test photos.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from pathlib import Path

import psutil
from playwright.sync_api import expect, sync_playwright

from tests.support.app_server import launch_chromium, run_app_server
from tests.support.face_app import open_sign_in, settings_for
from tests.support.fake_camera import still_y4m
from tests.support.paths import FACES_DIR
from tests.support.webrtc_driver import start_camera

LIMIT_MB = 2700
PEOPLE = {"Ann": "obama", "Bob": "biden", "Kit": "kit_harington"}
PASSWORD = "a long enough password"


def _server_process(url: str) -> psutil.Process:
    port = int(url.rsplit(":", 1)[1])
    for connection in psutil.net_connections("tcp"):
        if connection.laddr and connection.laddr.port == port and connection.status == psutil.CONN_LISTEN:
            return psutil.Process(connection.pid)
    raise RuntimeError(f"no process listens on {port}")


def _rss_mb(process: psutil.Process) -> float:
    return round(process.memory_info().rss / 2**20, 1)


class PeakSampler:
    def __init__(self, process: psutil.Process) -> None:
        self.process, self.peak, self._stop = process, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, _rss_mb(self.process))

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _face_sign_in(playwright, server, camera: Path, name: str) -> float:
    started = time.monotonic()
    browser = launch_chromium(playwright, ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                                           f"--use-file-for-fake-video-capture={camera}"])
    page = browser.new_page()
    open_sign_in(page, server)
    start_camera(page)
    expect(page.get_by_text(f"Welcome back, {name}.")).to_be_visible(timeout=180_000)
    browser.close()
    return round(time.monotonic() - started, 1)


def _avatar(playwright, server) -> None:
    browser = launch_chromium(playwright)
    page = browser.new_page()
    page.goto(f"{server.url}/sign_in")
    page.get_by_label("Email", exact=True).fill("dee@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Signed in as")).to_be_visible(timeout=60_000)
    deadline = time.monotonic() + 30  # the page writes the session cookie after its run; a new load needs it
    while not any(c["name"] == "webtube_session" for c in page.context.cookies()) and time.monotonic() < deadline:
        time.sleep(0.2)
    page.goto(f"{server.url}/profile")
    page.get_by_test_id("stFileUploaderDropzoneInput").first.set_input_files(
        str(FACES_DIR / "groups/obama_and_biden.jpg"))
    expect(page.get_by_test_id("stFileChip").filter(has_text="obama_and_biden.jpg")).to_be_visible()
    expect(page.get_by_test_id("stFileChipIconSpinner")).to_have_count(0)  # uploaded before the press
    page.get_by_role("button", name="Save picture").click()
    expect(page.get_by_text("Your picture is saved.")).to_be_visible(timeout=60_000)
    browser.close()


def main() -> None:
    from core.accounts.users import register
    from core.face_signin.enrolment import enrol_photo

    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder) / "data"
        cameras = {}
        with settings_for(data_dir):
            for name, person in PEOPLE.items():
                user = register(name, f"{name.lower()}@example.com", PASSWORD, PASSWORD)
                enrol_photo(user.id, (FACES_DIR / f"people/{person}/{person}_1.jpg").read_bytes(), keep_image=False)
                cameras[name] = still_y4m(FACES_DIR / f"people/{person}/{person}_2.jpg", Path(folder) / f"{name}.y4m")
            register("Dee", "dee@example.com", PASSWORD, PASSWORD)
        with run_app_server(data_dir, env={"WEBTUBE_LIVENESS": "false"}) as server, sync_playwright() as playwright:
            process = _server_process(server.url)
            browser = launch_chromium(playwright)
            page = browser.new_page()
            page.goto(f"{server.url}/")
            expect(page.get_by_text("Not signed in")).to_be_visible(timeout=60_000)
            browser.close()
            at_rest = _rss_mb(process)
            first = _face_sign_in(playwright, server, cameras["Ann"], "Ann")
            models_loaded = _rss_mb(process)
            with PeakSampler(process) as sampler:
                errors: list[str] = []

                def run(call, *args) -> None:
                    try:
                        with sync_playwright() as own:
                            call(own, server, *args)
                    except Exception as exc:  # reported in the JSON, never hidden
                        errors.append(f"{call.__name__}: {type(exc).__name__}: {str(exc)[:200]}")

                threads = [threading.Thread(target=run, args=(_face_sign_in, cameras[name], name)) for name in PEOPLE]
                threads.append(threading.Thread(target=run, args=(_avatar,)))
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
            print(json.dumps({
                "benchmark": "hosted_memory", "cpus": os.cpu_count(), "load_average": os.getloadavg(),
                "rss_mb": {"at_rest": at_rest, "models_loaded": models_loaded,
                           "peak_three_face_signins_and_an_avatar": sampler.peak},
                "first_face_sign_in_s": first, "limit_mb": LIMIT_MB, "met": sampler.peak <= LIMIT_MB and not errors,
                "errors": errors,
            }, indent=2))


if __name__ == "__main__":
    main()
