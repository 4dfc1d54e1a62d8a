"""Studio › Videos and the site's "People in this video" through Streamlit's AppTest, on the real core (SQLite,
the face engine, ffmpeg, the job system).

The clip is made here with ffmpeg from the test photos: Obama, then Biden, then Obama again. Ann's library
knows Obama (two other photos of him), so the analysis names him and calls Biden "Unknown person 1". Jobs
are left queued (WEBTUBE_JOB_THREADS=0) and run in the test's thread with `run_now`, so the page is seen
both while the job waits and once it is done.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pyarrow.ipc
import pytest
from streamlit.testing.v1 import AppTest

from core.accounts.users import UserInfo, register
from core.config import get_settings
from core.jobs import queue
from core.jobs.runner import run_now
from core.studio import people
from core.studio.recognise_add import add_face
from core.video_analysis import results
from core.video_analysis.files import uploads_dir
from core.videos.sharing import share_video
from pages.ui.video_timeline import spans
from tests.support.app_driver import button, go, open_app, texts, widget
from tests.support.app_server import ROOT
from tests.support.media_server import MediaServer, Route
from tests.support.paths import FACES_DIR
from tests.test_app_studio import plain

PASSWORD = "a long enough password"
UPLOAD_LABEL = "A video file (MP4, WebM or MOV)"
CLIP_PARTS = (  # (photo, seconds): two time ranges for Obama around one for Biden
    ("people/obama/obama_5_small.jpg", 2),
    ("people/biden/biden_2.jpg", 2),
    ("people/obama/obama_5_small.jpg", 1),
)
CLIP_FPS = 10
CLIP_TRUTH = {"obama": [(0.0, 2.0), (4.0, 5.0)], "biden": [(2.0, 4.0)]}  # who is on screen when (CLIP_PARTS)
OBAMA_SAMPLES = ("people/obama/obama_2.jpg", "people/obama/obama_3.jpg")  # not the clip's photo


def face_clip(out: Path) -> Path:
    """A 5 s, 320x240 H.264 clip made with ffmpeg from the test photos: Obama 0-2 s, Biden 2-4 s, Obama 4-5 s."""
    inputs: list[str] = []
    chains = []
    for index, (photo, seconds) in enumerate(CLIP_PARTS):
        inputs += ["-loop", "1", "-framerate", str(CLIP_FPS), "-t", str(seconds), "-i", str(FACES_DIR / photo)]
        # each photo scaled to the width and cut to its top, where the face is (biden_2 is square)
        chains.append(f"[{index}]scale=320:-2,crop=320:240:0:0,setsar=1[p{index}]")
    joined = "".join(f"[p{index}]" for index in range(len(CLIP_PARTS)))
    graph = ";".join(chains) + f";{joined}concat=n={len(CLIP_PARTS)}:v=1:a=0,format=yuv420p[v]"
    command = ["ffmpeg", "-v", "error", "-y", *inputs, "-filter_complex", graph, "-map", "[v]", "-c:v", "libx264"]
    subprocess.run([*command, "-preset", "veryfast", "-movflags", "+faststart", str(out)], check=True)
    return out


def assert_when(ranges: list[tuple[float, float]], truth: list[tuple[float, float]], sample_fps: float) -> None:
    """The analysis says when someone is on screen within one sampling step of the truth."""
    step = 1 / sample_fps
    assert len(ranges) == len(truth), (ranges, truth)
    for (start, end), (true_start, true_end) in zip(ranges, truth, strict=True):
        assert abs(start - true_start) <= step and abs(end - true_end) <= step, (ranges, truth)


def knows_obama(owner: UserInfo) -> int:
    """Ann's studio person "Barack Obama", from two photos of him that are not in the clip."""
    first, second = ((FACES_DIR / name).read_bytes() for name in OBAMA_SAMPLES)
    obama = add_face(owner.id, first, face_index=0, name="Barack Obama")
    add_face(owner.id, second, face_index=0, person_id=obama.id)
    return obama.id


@pytest.fixture
def ann(site: Path, monkeypatch: pytest.MonkeyPatch) -> UserInfo:
    """Ann, on a site whose jobs wait in the queue until the test runs them."""
    monkeypatch.setenv("WEBTUBE_JOB_THREADS", "0")
    monkeypatch.setenv("WEBTUBE_VIDEO_SAMPLE_FPS", "2")
    get_settings.cache_clear()
    return register("Ann", "ann@example.com", PASSWORD, PASSWORD)


def _all_text(at: AppTest) -> str:
    kinds = ("markdown", "caption", "success", "info", "warning", "error", "subheader", "title")
    return plain("\n".join(str(value) for kind in kinds for value in texts(at, kind)))


def _run_followed_job(at: AppTest, owner: UserInfo) -> int:
    """The job the page follows ran to its end here; the page is run again, as its poll would."""
    job_id = at.session_state["video_job"]
    assert queue.job_info(owner.id, job_id).status == "queued"
    assert run_now(job_id) == "done", queue.job_info(owner.id, job_id)
    at.run()
    assert not at.exception, at.exception
    return job_id


def _chart(at: AppTest) -> tuple[list[str], list[tuple[str, float, float]]]:
    """The timeline as the page sends it: its rows (one per person, in order) and its bars (who, start, end)."""
    [chart] = at.get("vega_lite_chart")
    spec = json.loads(chart.proto.spec)
    assert spec["mark"]["type"] == "bar" and spec["encoding"]["x2"]["field"] == "end", spec
    [dataset] = chart.proto.datasets  # the DataFrame, as Arrow
    bars = pyarrow.ipc.open_stream(dataset.data.data).read_all().to_pylist()
    return spec["encoding"]["y"]["sort"], [(bar["person"], bar["start"], bar["end"]) for bar in bars]


def _person_view(folder: Path, user_id: int, person_id: int) -> Path:
    """A one-page app drawing "Videos with this person" beside the pages it links to (the People page's call).

    Its `pages` is the project's (a link), so the widget's links resolve as they do in app.py."""
    (folder / "pages").symlink_to(ROOT / "pages", target_is_directory=True)
    script = folder / "person_view.py"
    script.write_text(
        "import streamlit as st\n"
        "from pages.ui.video_people import videos_with_person\n"
        f"person = st.Page(lambda: videos_with_person({user_id}, {person_id}), title='Person', url_path='person')\n"
        "others = [st.Page(f'pages/{name}.py', url_path=name) for name in ('studio_videos', 'watch')]\n"
        "st.navigation([person, *others]).run()\n"
    )
    return script


def test_upload_follow_the_job_see_people_timeline_video_json_add_and_delete(ann: UserInfo, tmp_path: Path) -> None:
    knows_obama(ann)
    at = open_app(ann.id, "pages/studio_videos.py")
    assert not at.exception
    assert texts(at, "title") == ["Videos"]
    assert "No video analysed yet" in _all_text(at)

    # a file that is not a video: one sentence, nothing queued, nothing staged
    widget(at, "file_uploader", UPLOAD_LABEL).upload("holiday.mp4", b"this is not a video at all", "video/mp4")
    button(at, "Analyse the upload").click()
    at.run()
    [error] = texts(at, "error")
    assert error.endswith(".") and "video" in error.lower(), error
    assert queue.recent_jobs(ann.id, kind="video_analysis") == []
    assert not any(path.is_file() for path in uploads_dir(ann.id).rglob("*"))

    # the clip, at 2 frames a second: queued, followed, then run to the end
    clip = face_clip(tmp_path / "obama-biden.mp4")
    widget(at, "file_uploader", UPLOAD_LABEL).upload(clip.name, clip.read_bytes(), "video/mp4")
    widget(at, "number_input", "Frames analysed per second of video").set_value(2.0)
    button(at, "Analyse the upload").click()
    at.run()
    assert not at.exception and texts(at, "error") == []
    [bar] = at.get("progress")
    assert plain(bar.proto.text).startswith("Waiting for a free worker"), bar.proto.text
    job_id = _run_followed_job(at, ann)

    # the results open by themselves: people with thumbnails and names, the timeline, the video, the JSON
    info = results.analysis_for_job(ann.id, job_id)
    assert at.query_params["analysis"] == str(info.id)
    assert plain(texts(at, "subheader")[0]) == "obama-biden.mp4"
    names = {person.name: person for person in info.people}
    assert set(names) == {"Barack Obama", "Unknown person 1"}, names
    for name, who in (("Barack Obama", "obama"), ("Unknown person 1", "biden")):
        assert_when([(r.start_s, r.end_s) for r in names[name].ranges], CLIP_TRUTH[who], info.sample_fps)
    shown = _all_text(at)
    for person in info.people:
        assert f"**{person.name}**" in shown and spans(person.ranges) in shown
    assert len(at.main.get("image")) == len(info.people)  # a thumbnail each
    rows, bars = _chart(at)
    assert rows == [person.name for person in info.people]
    expected = [(person.name, span.start_s, span.end_s) for person in info.people for span in person.ranges]
    assert [(who, start) for who, start, _ in bars] == [(who, start) for who, start, _ in expected]
    assert all(end >= wanted for (_, _, end), (_, _, wanted) in zip(bars, expected, strict=True))
    [video] = at.get("video")
    assert info.annotated is not None and info.annotated.stat().st_size > 0 and video.proto.url
    [download] = at.get("download_button")
    assert download.label == "Download the JSON"
    exported = results.analysis_json(ann.id, info.id)
    assert {p["name"] for p in exported["people"]} == set(names) and exported["frames"]

    # "Add to my people" on the unknown: Biden becomes a studio person, the page names him
    unknown = names["Unknown person 1"]
    at.text_input(key=f"video-add-{unknown.id}-name").input("Joe Biden")
    [add] = [b for b in at.button if b.label == "Add"]
    add.click()
    at.run()
    assert not at.exception, at.exception
    assert "Joe Biden is now one of your people." in texts(at, "success")
    biden = next(p for p in people.list_people(ann.id) if p.name == "Joe Biden")
    assert "**Joe Biden**" in _all_text(at) and "Unknown person 1" not in _all_text(at)

    # "Videos with this person", as the person's view on the People page draws it
    view = AppTest.from_file(str(_person_view(tmp_path, ann.id, biden.id)), default_timeout=60).run()
    assert not view.exception, view.exception
    assert texts(view, "markdown")[:2] == ["**Videos with this person**", "**obama\\-biden\\.mp4**"]
    assert any(spans(unknown.ranges) in caption for caption in texts(view, "caption"))
    [link] = [link for link in view.get("page_link") if link.value == "Open the analysis"]
    assert link.proto.query_string == f"analysis={info.id}"

    # delete, after the confirmation: the analysis, its files and its line in the history go
    assert button(at, "Delete analysis").disabled
    widget(at, "checkbox", "Yes, delete this analysis").check()
    at.run()
    button(at, "Delete analysis").click()
    at.run()
    assert not at.exception
    assert texts(at, "success") == ["The analysis of “obama-biden.mp4” is deleted."]
    assert results.recent_analyses(ann.id) == [] and queue.recent_jobs(ann.id, kind="video_analysis") == []
    assert not info.annotated.exists()
    assert "No video analysed yet" in _all_text(at)


def test_the_video_page_offers_an_analysis_then_shows_the_people(
    ann: UserInfo, media_server: MediaServer, tmp_path: Path
) -> None:
    clip = face_clip(tmp_path / "obama-biden.mp4")  # shared as a plain file link, fetched by the site's downloader
    media_server.add("obama-biden.mp4", Route(body=clip.read_bytes(), content_type="video/mp4"))
    video = share_video(ann.id, media_server.url("obama-biden.mp4"), "", ["education"], title="Two presidents")
    at = open_app(ann.id, "pages/watch.py", v=str(video.id))
    assert not at.exception
    assert "People in this video" in texts(at, "subheader")
    button(at, "Analyse faces in this video").click()
    at.run()
    assert not at.exception and texts(at, "error") == []
    assert "The faces of this video are being analysed." in texts(at, "caption")
    assert any(link.value == "Follow it in Studio › Videos" for link in at.get("page_link"))
    job_id = at.session_state["video_job"]
    assert run_now(job_id) == "done", queue.job_info(ann.id, job_id)
    at.run()
    info = results.analysis_for_job(ann.id, job_id)
    assert info.video_id == video.id and info.people, info
    shown = _all_text(at)
    for person in info.people:
        assert f"**{person.name}**" in shown and spans(person.ranges) in shown
    [opened] = [link for link in at.get("page_link") if link.value == "Open the analysis in Studio › Videos"]
    assert opened.proto.query_string == f"analysis={info.id}"

    # a visitor sees the video, and no one's analysis of it
    visitor = open_app(None, "pages/watch.py", v=str(video.id))
    assert "People in this video" not in texts(visitor, "subheader")
    go(at, "pages/studio_videos.py", job=str(job_id))  # the History page's link to a finished analysis
    assert not at.exception
    assert plain(texts(at, "subheader")[0]) == info.video_title
