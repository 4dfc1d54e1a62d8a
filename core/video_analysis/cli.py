"""`python -m core video analyse FILE_OR_VIDEO_ID [--fps N] [--owner EMAIL]`: the analysis JSON on stdout.

The analysis runs in this process, but as a real job of the one job system (queued, claimed by this
process, run here), so it appears in the person's history and a killed run is resumed by any worker.
A path that exists is a file; otherwise a number is the id of a video shared on the site. Bad input exits
with status 2 and one line on stderr; without `--owner` it is the default library's analysis.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from core.accounts.users import AccountError
from core.jobs.context import JobFailed
from core.jobs.holders import new_identity
from core.jobs.queue import claim, enqueue, job_info
from core.jobs.runner import run_claimed
from core.studio.errors import BadInput, StudioError
from core.studio.owners import resolve_owner

WAIT_S = 0.5


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core video", description="Face analysis of videos.")
    commands = parser.add_subparsers(dest="command", required=True)
    analyse = commands.add_parser("analyse", help="who appears in a video, and when (prints JSON)")
    analyse.add_argument("source", metavar="FILE_OR_VIDEO_ID")
    analyse.add_argument("--fps", type=float, help="frames analysed per second (default WEBTUBE_VIDEO_SAMPLE_FPS)")
    analyse.add_argument("--owner", metavar="EMAIL", help="whose people name the faces (default: the default library)")
    return parser


def _chosen(source: str) -> dict:
    """A file that exists, else a site video's id."""
    path = Path(source)
    if path.exists():
        return {"file": path.resolve()}
    if source.isdigit():
        return {"video_id": int(source)}
    raise BadInput(f"There is no file {source} (and it is not a video id).")


def analyse_now(owner_id: int, source: str, fps: float | None = None) -> dict:
    """Analyse a file or a site video in this process, as a job; returns the JSON export."""
    chosen = _chosen(source)
    # Imported once the source is known to be there: they bring the face engine (torch, about 2 s to import).
    from core.video_analysis.job import KIND, start_params
    from core.video_analysis.results import analysis_for_job, analysis_json

    params, total = start_params(**chosen, fps=fps)
    job_id = enqueue(owner_id, KIND, params, total, wake=False)
    worker = new_identity()
    if claim(job_id, worker):
        run_claimed(job_id, worker)
    while (info := job_info(owner_id, job_id)).status in ("queued", "running"):  # another worker took it
        time.sleep(WAIT_S)
    if info.status != "done":
        raise JobFailed(info.error or f"The analysis ended {info.status}.")
    return analysis_json(owner_id, analysis_for_job(owner_id, job_id).id)


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        result = analyse_now(resolve_owner(args.owner), args.source, args.fps)
    except (StudioError, AccountError, JobFailed) as exc:
        print(str(exc), file=sys.stderr)
        return 2
    json.dump(result, sys.stdout, indent=2)
    print()
    return 0
