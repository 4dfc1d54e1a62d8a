"""Video face analysis end to end: real face engine, real job system, real SQLite, PyAV/libx264 and ffmpeg.

One module-wide template (three studio people seeded through the studio's own `add_face`, one analysed
clip built from the test photos, one analysis of the project's Hamilton clip shared on the site) is
copied for each test, so tests delete and rename freely. The built clip: Obama 0-2 s, Biden 2-4 s, both
4-5 s, Kit Harington 5-5.6 s and again 6.8-7.4 s after an empty gap, Rose Leslie 7.4-8 s; Obama and
Biden are studio people, Kit and Rose are not.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import pytest
from sqlalchemy import func, select, update

from core.accounts.users import register
from core.config import PROJECT_ROOT, get_settings
from core.jobs.context import JobFailed
from core.jobs.holders import new_identity
from core.jobs.queue import claim, delete_job, job_info
from core.jobs.runner import run_claimed
from core.storage.database import session_scope
from core.storage.models import User
from core.storage.studio_models import Job
from core.storage.video_models import VideoAnalysis, VideoPerson
from core.studio import people
from core.studio.errors import BadInput, NotFound
from core.studio.owners import resolve_owner
from core.studio.recognise_add import add_face
from core.video_analysis import files
from core.video_analysis.cli import analyse_now
from core.video_analysis.job import stage_upload, start_analysis
from core.video_analysis.probe import probe_video
from core.video_analysis.records import AnalysisInfo, FoundPerson, TimeRange
from core.video_analysis.results import (
    add_to_people,
    analyses_of_video,
    analysis_for_job,
    analysis_json,
    delete_analysis,
    get_analysis,
    recent_analyses,
    videos_with_person,
)
from core.videos.sharing import share_video
from tests.support.media_server import MediaServer
from tests.support.paths import FACES_DIR
from tests.support.video_clips import build_clip

PEOPLE = FACES_DIR / "people"
OBAMA, BIDEN = PEOPLE / "obama/obama_2.jpg", PEOPLE / "biden/biden_2.jpg"
KIT, ROSE = PEOPLE / "kit_harington/kit_harington_2.jpg", PEOPLE / "rose_leslie/rose_leslie_1.jpg"
SEGMENTS = [(2.0, (OBAMA,)), (2.0, (BIDEN,)), (1.0, (OBAMA, BIDEN)), (0.6, (KIT,)), (1.2, ()), (0.6, (KIT,)),
            (0.6, (ROSE,))]
SEEDS = {"Barack Obama": "obama/obama_1.jpg", "Joe Biden": "biden/biden_1.jpg",
         "Lin-Manuel Miranda": "lin_manuel_miranda/lin_manuel_miranda_1.png"}
HAMILTON = FACES_DIR / "video/short_hamilton_clip.mp4"
LIN_ALONE = (3.55, 7.87)  # the README's measured span of Lin-Manuel Miranda alone in the frame
PASSWORD = "correct horse battery staple 42"


@dataclass(frozen=True)
class Template:
    data: Path
    clips: Path
    job_id: int  # the built clip's analysis
    hamilton_job_id: int  # the Hamilton clip's, as a site video
    video_id: int


def _point_at(monkeypatch: pytest.MonkeyPatch, data: Path) -> None:
    monkeypatch.setenv("WEBTUBE_DATA_DIR", str(data))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("WEBTUBE_BCRYPT_ROUNDS", "4")
    monkeypatch.setenv("WEBTUBE_ALLOW_PRIVATE_URLS", "true")
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, media_server: MediaServer) -> Iterator[Template]:
    root = tmp_path_factory.mktemp("video-template")
    clips = root / "clips"
    clips.mkdir()
    build_clip(clips / "people.mp4", SEGMENTS)
    with pytest.MonkeyPatch.context() as monkeypatch:
        _point_at(monkeypatch, root / "data")
        owner = resolve_owner(None)
        register("Stranger", "stranger@example.com", PASSWORD, PASSWORD)
        for name, photo in SEEDS.items():
            add_face(owner, (PEOPLE / photo).read_bytes(), 0, name=name)
        job_id = analyse_now(owner, str(clips / "people.mp4"))["job_id"]
        video_id = share_video(owner, media_server.url("clip.mp4")).id
        hamilton_job_id = analyse_now(owner, str(video_id), fps=2)["job_id"]
    get_settings.cache_clear()
    yield Template(root / "data", clips, job_id, hamilton_job_id, video_id)


@dataclass(frozen=True)
class Site:
    data: Path
    owner: int
    stranger: int
    t: Template

    def person(self, name: str) -> int:
        return next(p.id for p in people.list_people(self.owner) if p.name == name)


@pytest.fixture
def site(template: Template, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    data = tmp_path / "data"
    shutil.copytree(template.data, data, ignore=shutil.ignore_patterns("*.lock"))
    _point_at(monkeypatch, data)
    yield Site(data, resolve_owner(None), resolve_owner("stranger@example.com"), template)
    get_settings.cache_clear()


def _by_name(analysis: AnalysisInfo) -> dict[str, FoundPerson]:
    return {p.name: p for p in analysis.people}


def _covers(ranges: tuple[TimeRange, ...], start: float, end: float) -> bool:
    return any(r.start_s <= start + 0.25 and r.end_s >= end - 0.25 for r in ranges)


def _rows() -> tuple[int, int]:
    with session_scope() as session:
        return (session.scalar(select(func.count()).select_from(VideoAnalysis)),
                session.scalar(select(func.count()).select_from(VideoPerson)))


# --- who appears when ------------------------------------------------------------------------------


def test_the_right_people_at_the_right_times(site: Site) -> None:
    analysis = analysis_for_job(site.owner, site.t.job_id)
    found = _by_name(analysis)
    assert set(found) == {"Barack Obama", "Joe Biden", "Unknown person 1", "Unknown person 2"}
    obama, biden = found["Barack Obama"], found["Joe Biden"]
    assert obama.known and obama.person_id == site.person("Barack Obama") and obama.similarity_pct >= 80
    assert _covers(obama.ranges, 0.0, 2.0) and _covers(obama.ranges, 4.0, 5.0)  # one person across the gap
    assert not any(r.start_s > 2.3 and r.end_s < 3.7 for r in obama.ranges)
    assert _covers(biden.ranges, 2.0, 5.0) and biden.first_seen_s == pytest.approx(2.0, abs=0.25)
    kit, rose = found["Unknown person 1"], found["Unknown person 2"]  # numbered by first appearance
    assert not kit.known and kit.person_id is None
    assert len(kit.ranges) == 2 and _covers(kit.ranges, 5.0, 5.6) and _covers(kit.ranges, 6.8, 7.4)
    assert _covers(rose.ranges, 7.4, 8.0) and rose.first_seen_s > kit.first_seen_s
    assert [p.seq for p in analysis.people] == [1, 2, 3, 4] and analysis.people[0].name == "Barack Obama"
    assert analysis.message is None and analysis.sampled_frames == 40 and analysis.frame_count == 80
    for person in analysis.people:  # a thumbnail per person, a face the engine finds again
        image = cv2.imread(str(person.thumbnail))
        assert image is not None and min(image.shape[:2]) >= 60
    assert [s.id for s in recent_analyses(site.owner)][-1] == analysis.id
    assert recent_analyses(site.stranger) == []


def test_the_hamilton_clip_names_lin_manuel_miranda_while_he_is_alone(site: Site) -> None:
    analysis = analysis_for_job(site.owner, site.t.hamilton_job_id)
    assert analysis.video_id == site.t.video_id and analysis.video_title
    found = _by_name(analysis)
    lin = found["Lin-Manuel Miranda"]
    assert _covers(lin.ranges, 4.1, 7.6)
    frames = analysis_json(site.owner, analysis.id)["frames"]
    alone = [{face["person"] for face in f["faces"]} for f in frames if LIN_ALONE[0] <= f["t"] <= LIN_ALONE[1]]
    named = [faces for faces in alone if lin.id in faces]
    assert len(alone) >= 8 and len(named) >= 0.75 * len(alone)  # the benchmark reports the exact fraction
    others = {p.id for p in analysis.people if p.known and p.id != lin.id}
    assert not any(faces & others for faces in alone)  # nobody else is named while he is alone
    assert [s.id for s in analyses_of_video(site.owner, site.t.video_id)] == [analysis.id]
    assert analyses_of_video(site.stranger, site.t.video_id) == []
    seen = videos_with_person(site.owner, site.person("Lin-Manuel Miranda"))
    assert [(v.analysis_id, v.video_id) for v in seen] == [(analysis.id, site.t.video_id)]
    with pytest.raises(NotFound):
        videos_with_person(site.stranger, site.person("Lin-Manuel Miranda"))


def test_the_json_export_has_people_ranges_and_boxes_per_sampled_frame(site: Site) -> None:
    analysis = analysis_for_job(site.owner, site.t.job_id)
    export = analysis_json(site.owner, analysis.id)
    assert json.loads(json.dumps(export)) == export
    assert {"analysis_id", "job_id", "duration_s", "fps", "frame_count", "sample_fps", "sampled_frames", "people",
            "frames", "annotated_video", "message", "embedder"} <= set(export)
    assert export["sample_fps"] == 5.0 and len(export["frames"]) == export["sampled_frames"] == 40
    ids = {p["id"] for p in export["people"]}
    for person in export["people"]:
        assert {"id", "label", "name", "person_id", "known", "thumbnail", "ranges", "seconds"} <= set(person)
        assert all(r["start_s"] < r["end_s"] for r in person["ranges"])
        assert (site.data / person["thumbnail"]).is_file()
    both = next(f for f in export["frames"] if 4.2 <= f["t"] <= 4.8)
    assert len(both["faces"]) == 2 and {face["person"] for face in both["faces"]} <= ids
    assert all(len(face["box"]) == 4 and face["score"] >= 0.9 for f in export["frames"] for face in f["faces"])
    gap = [f["faces"] for f in export["frames"] if 5.8 <= f["t"] <= 6.6]  # the empty stretch
    assert len(gap) >= 4 and gap == [[]] * len(gap)
    with pytest.raises(NotFound):
        analysis_json(site.stranger, analysis.id)


def test_the_annotated_video_is_h264_that_browsers_play(site: Site) -> None:
    annotated = analysis_for_job(site.owner, site.t.job_id).annotated
    data = annotated.read_bytes()
    assert data.find(b"moov") < data.find(b"mdat")  # +faststart: playback starts before the whole file arrives
    with av.open(str(annotated)) as container:
        stream = container.streams.video[0]
        assert (container.format.name.split(",")[0], stream.codec_context.name) == ("mov", "h264")
        assert stream.codec_context.pix_fmt == "yuv420p" and (stream.width, stream.height) == (640, 360)
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)]
    assert len(frames) == 80  # every frame of the original, boxes held between samples
    with av.open(str(site.t.clips / "people.mp4")) as container:
        original = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    drawn = [abs(a.astype(int) - b.astype(int)).max() > 100 for a, b in zip(frames, original, strict=True)]
    assert all(drawn[1:19]) and not any(drawn[59:67])  # boxes on Obama's frames, none on the empty ones


# --- changes after the analysis ----------------------------------------------------------------------


def test_deleting_a_studio_person_makes_them_unknown_again(site: Site) -> None:
    analysis = analysis_for_job(site.owner, site.t.job_id)
    obama = _by_name(analysis)["Barack Obama"]
    people.delete_person(site.owner, obama.person_id)
    again = {p.id: p for p in get_analysis(site.owner, analysis.id).people}[obama.id]
    assert (again.name, again.label, again.known, again.person_id) == (obama.label, obama.label, False, None)
    assert again.label == "Unknown person 3"  # the unknowns keep 1 and 2
    assert _by_name(get_analysis(site.owner, analysis.id))["Joe Biden"].known


def test_merging_studio_people_keeps_their_video_appearances(site: Site) -> None:
    analysis = analysis_for_job(site.owner, site.t.job_id)
    obama = _by_name(analysis)["Barack Obama"]
    also = people.create_person(site.owner, "Obama (second name)")
    merged = people.merge_people(site.owner, [obama.person_id], also.id)
    again = {p.id: p for p in get_analysis(site.owner, analysis.id).people}[obama.id]
    assert (again.known, again.person_id, again.name) == (True, merged.id, "Obama (second name)")
    assert [v.analysis_id for v in videos_with_person(site.owner, merged.id)] == [analysis.id]


def test_an_unknown_can_be_added_to_my_people(site: Site) -> None:
    analysis = analysis_for_job(site.owner, site.t.job_id)
    kit = _by_name(analysis)["Unknown person 1"]
    person_id = add_to_people(site.owner, kit.id, "Kit Harington")
    now = _by_name(get_analysis(site.owner, analysis.id))["Kit Harington"]
    assert now.known and now.person_id == person_id and now.id == kit.id
    assert people.get_person(site.owner, person_id).face_count == 1
    assert [v.analysis_id for v in videos_with_person(site.owner, person_id)] == [analysis.id]
    with pytest.raises(BadInput, match="already"):
        add_to_people(site.owner, kit.id, "Someone Else")
    with pytest.raises(NotFound):
        add_to_people(site.stranger, _by_name(analysis)["Unknown person 2"].id, "Rose")


def test_deleting_an_analysis_the_job_or_the_account_removes_rows_and_files(site: Site) -> None:
    built = analysis_for_job(site.owner, site.t.job_id)
    folder = built.annotated.parent
    with pytest.raises(NotFound):
        delete_analysis(site.stranger, built.id)
    delete_analysis(site.owner, built.id)
    assert not folder.exists() and [a.id for a in recent_analyses(site.owner)] != [built.id]
    hamilton = analysis_for_job(site.owner, site.t.hamilton_job_id)
    delete_job(site.owner, site.t.hamilton_job_id)  # the history's delete: rows by CASCADE, files by delete_files
    assert not hamilton.annotated.parent.exists() and _rows() == (0, 0)
    assert not list(files.owner_root(site.owner).glob("job-*"))
    stage_upload(site.owner, "kept.mp4", HAMILTON.open("rb"))
    with session_scope() as session:
        session.delete(session.get_one(User, site.owner))
    assert not files.owner_root(site.owner).exists()


# --- bad input: one sentence, nothing left behind --------------------------------------------------------


def _nothing_left(site: Site, before: tuple[int, int]) -> None:
    assert _rows() == before  # only the template's two analyses
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Job).where(Job.kind == "video_analysis")) == 2
    uploads = files.uploads_dir(site.owner)
    assert not uploads.exists() or not any(uploads.iterdir())
    assert sorted(p.name for p in files.owner_root(site.owner).iterdir() if p.name != "uploads") == sorted(
        [f"job-{site.t.job_id}", f"job-{site.t.hamilton_job_id}"])


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True, timeout=60)


def _bad_file(kind: str, folder: Path) -> Path:
    if kind == "text":
        (folder / "notes.mp4").write_text("not a video at all\n" * 50)
        return folder / "notes.mp4"
    if kind == "photo":
        shutil.copyfile(OBAMA, folder / "photo.mov")
        return folder / "photo.mov"
    if kind == "truncated":
        (folder / "cut.mp4").write_bytes(HAMILTON.read_bytes()[:300_000])
        return folder / "cut.mp4"
    if kind == "codec":
        _ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x64:rate=5", "-t", "1", "-c:v", "png", str(folder / "png.mov"))
        return folder / "png.mov"
    _ffmpeg("-f", "lavfi", "-i", "color=size=32x32:rate=1/30", "-t", "10800", "-c:v", "libx264", "-preset",
            "ultrafast", str(folder / "long.mp4"))
    return folder / "long.mp4"


@pytest.mark.parametrize(("kind", "sentence"), [
    ("text", "This file is not a video (MP4, WebM or MOV)."),
    ("photo", "This file is not a video (MP4, WebM or MOV)."),
    ("truncated", "The video file is truncated or damaged and cannot be read."),
    ("codec", "The video's codec (png) is not supported; use one of H.264, H.265, VP8, VP9, AV1, MPEG-4."),
    ("three_hours", "The video is too long (3.0 hours); the limit is 1.0 hours."),
])
def test_bad_videos_are_refused_at_once_with_one_sentence(site: Site, tmp_path: Path, kind: str,
                                                          sentence: str) -> None:
    bad, before = _bad_file(kind, tmp_path), _rows()
    staged = stage_upload(site.owner, bad.name, bad.open("rb"))
    with pytest.raises(BadInput) as refused:
        start_analysis(site.owner, upload_path=staged)
    assert str(refused.value) == sentence
    _nothing_left(site, before)


def test_other_refusals(site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = _rows()
    monkeypatch.setenv("WEBTUBE_VIDEO_MAX_MB", "1")
    get_settings.cache_clear()
    big = tmp_path / "big.mp4"
    big.write_bytes(HAMILTON.read_bytes() * 2)
    with pytest.raises(BadInput, match=r"^The video is too big \(1 MB\); the limit is 1 MB\.$"):
        stage_upload(site.owner, "big.mp4", big.open("rb"))
    with pytest.raises(NotFound, match="no such video"):
        start_analysis(site.owner, video_id=9999)
    with pytest.raises(BadInput, match="staged first"):
        start_analysis(site.owner, upload_path=HAMILTON)
    with pytest.raises(BadInput, match="sampling rate"):
        start_analysis(site.owner, video_id=site.t.video_id, fps=0)
    _nothing_left(site, before)


def test_a_file_cut_short_fails_the_job_with_nothing_written(site: Site, tmp_path: Path) -> None:
    whole = build_clip(tmp_path / "whole.mp4", [(3.0, (OBAMA,))])
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 2 // 3])  # +faststart: the index survives the cut
    before = _rows()
    with pytest.raises(JobFailed, match=r"^The video file is truncated: it stops at \d\.\d s of 3\.0 s\.$"):
        analyse_now(site.owner, str(cut), fps=2)
    assert _rows() == before
    failed = [d for d in files.owner_root(site.owner).iterdir() if d.name not in ("uploads",)]
    assert sorted(d.name for d in failed) == sorted([f"job-{site.t.job_id}", f"job-{site.t.hamilton_job_id}"])


def test_a_video_without_faces_is_a_result_with_nobody_and_a_message(site: Site, tmp_path: Path) -> None:
    export = analyse_now(site.owner, str(build_clip(tmp_path / "empty.mp4", [(1.0, ())])), fps=2)
    assert export["people"] == [] and export["message"] == "No faces were found in this video."
    assert (site.data / export["annotated_video"]).is_file()


def test_webm_and_mov_are_judged_by_what_they_hold(site: Site, tmp_path: Path) -> None:
    clip = build_clip(tmp_path / "obama.mp4", [(1.0, (OBAMA,))])
    webm, mov = tmp_path / "obama.webm", tmp_path / "looks_like.mp4"
    _ffmpeg("-i", str(clip), "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", str(webm))
    _ffmpeg("-i", str(clip), "-c:v", "copy", "-f", "mov", str(mov))  # a MOV named .mp4
    assert probe_video(mov).container == "MP4/MOV" and probe_video(webm).codec == "vp9"
    export = analyse_now(site.owner, str(webm), fps=2)
    assert [p["name"] for p in export["people"]] == ["Barack Obama"] and export["frame_count"] == 10


# --- restarts -------------------------------------------------------------------------------------------


def test_a_job_run_again_after_a_crash_does_not_double_anything(site: Site, tmp_path: Path) -> None:
    clip = build_clip(tmp_path / "short.mp4", [(1.0, (BIDEN,)), (1.0, (KIT,))])
    analyses, found = _rows()
    first = analyse_now(site.owner, str(clip), fps=2)
    job_id = first["job_id"]
    folder = files.owner_root(site.owner) / files.job_key(job_id)
    dead = folder.with_name(f"{folder.name}.staging-dead")  # what a worker killed mid-write leaves
    (dead / "people").mkdir(parents=True)
    (dead / "annotated.mp4").write_bytes(b"half")
    with session_scope() as session:  # the worker died after storing, before the job was marked done
        session.execute(update(Job).where(Job.id == job_id).values(status="queued", worker=None))
    worker = new_identity()
    assert claim(job_id, worker)
    assert run_claimed(job_id, worker) == "done" and job_info(site.owner, job_id).attempts == 2
    again = analysis_json(site.owner, analysis_for_job(site.owner, job_id).id)
    assert [p["name"] for p in again["people"]] == [p["name"] for p in first["people"]] == ["Joe Biden",
                                                                                          "Unknown person 1"]
    assert _rows() == (analyses + 1, found + 2)  # replaced, not doubled
    assert not dead.exists() and sorted(p.name for p in folder.iterdir()) == ["annotated.mp4", "frames.json", "people"]
    assert sorted(p.name for p in (folder / "people").iterdir()) == ["1.jpg", "2.jpg", "boxes.json"]


# --- command line -----------------------------------------------------------------------------------------


def test_the_command_line_prints_the_result_json(site: Site, tmp_path: Path) -> None:
    clip = build_clip(tmp_path / "cli.mp4", [(1.0, (OBAMA,))])
    env = {**os.environ, "WEBTUBE_DATA_DIR": str(site.data), "WEBTUBE_BCRYPT_ROUNDS": "4"}
    run = subprocess.run([sys.executable, "-m", "core", "video", "analyse", str(clip), "--fps", "2"], env=env,
                         cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    printed = json.loads(run.stdout)
    assert [p["name"] for p in printed["people"]] == ["Barack Obama"] and printed["sample_fps"] == 2.0
    bad = subprocess.run([sys.executable, "-m", "core", "video", "analyse", str(tmp_path / "nowhere.mp4")],
                         env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2
    assert bad.stderr.strip() == f"There is no file {tmp_path / 'nowhere.mp4'} (and it is not a video id)."
    slow = subprocess.run([sys.executable, "-m", "core", "video", "analyse", str(clip), "--fps", "0"], env=env,
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert slow.returncode == 2 and "sampling rate" in slow.stderr and not slow.stdout
    typo = ("import sys; from core.video_analysis.cli import main; code = main(sys.argv[1:]); "
            "print('torch' in sys.modules); sys.exit(code)")
    quick = subprocess.run([sys.executable, "-c", typo, "analyse", "nowhere.mp4"], env=env, cwd=PROJECT_ROOT,
                           capture_output=True, text=True, timeout=300)
    assert quick.returncode == 2 and quick.stdout.strip() == "False"  # a typo is answered before the models load
