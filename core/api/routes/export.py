"""/api/v1/export: every face of my library as CSV or JSON, with the embeddings beside it in a zip if asked."""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from core.api.auth import Reader
from core.studio.export import export_faces

router = APIRouter(tags=["export"])
_MEDIA = {"csv": "text/csv", "json": "application/json"}


@router.get("/export", summary="My library's faces as a table (embeddings=true: a zip with the vectors as .npy)",
            response_class=FileResponse)
def export(key: Reader, format: Literal["csv", "json"] = "csv", embeddings: bool = False) -> FileResponse:
    folder = Path(tempfile.mkdtemp(prefix="webtube-export-"))
    done = BackgroundTask(shutil.rmtree, folder, ignore_errors=True)  # the copy goes once it is sent
    try:
        files = export_faces(key.user_id, format, embeddings, folder / f"faces.{format}")
        if files.embeddings is None:
            return FileResponse(files.main, media_type=_MEDIA[format], filename=files.main.name, background=done)
        bundle = folder / "faces.zip"
        with zipfile.ZipFile(bundle, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in (files.main, files.embeddings):
                archive.write(path, path.name)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(bundle, media_type="application/zip", filename=bundle.name, background=done)
