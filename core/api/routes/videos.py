"""/api/v1/videos/analyses: analyse the faces of a video (an upload or a video shared on the site) as a job."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, UploadFile

from core.api.auth import Reader, Writer
from core.api.routes.jobs import unfinished
from core.jobs import queue
from core.video_analysis.job import stage_upload, start_analysis
from core.video_analysis.results import analysis_for_job, analysis_json

router = APIRouter(prefix="/videos", tags=["video analysis"])


@router.post("/analyses", status_code=202,
             summary="Start a face analysis of an uploaded video or of a site video (by id): returns the job")
def start(key: Writer, video: UploadFile | None = None, video_id: Annotated[int | None, Form()] = None,
          fps: Annotated[float | None, Form(gt=0, le=30, description="frames analysed a second")] = None) -> dict:
    upload = stage_upload(key.user_id, video.filename or "video", video.file) if video is not None else None
    return {"job_id": start_analysis(key.user_id, upload_path=upload, video_id=video_id, fps=fps)}


@router.get("/analyses/{job_id}", summary="The analysis a finished job made: its people, their times and boxes")
def result(key: Reader, job_id: int) -> dict:
    unfinished(queue.job_info(key.user_id, job_id))
    return analysis_json(key.user_id, analysis_for_job(key.user_id, job_id).id)
