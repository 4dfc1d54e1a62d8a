"""/api/v1/search: my library's faces most like a face of a sample photo."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, UploadFile

from core.api.auth import Reader
from core.api.uploads import image_bytes
from core.studio.search import MAX_TOP_K, result_json, search_by_sample

router = APIRouter(tags=["search"])


@router.post("/search", summary="Faces like the sample's, best first, at or above a similarity threshold")
def search(
    key: Reader, image: UploadFile,
    threshold: Annotated[float | None, Form(ge=0, le=100, description="similarity in percent (default: the "
                                                                        "studio's)")] = None,
    top_k: Annotated[int, Form(ge=1, le=MAX_TOP_K)] = 50,
    face: Annotated[int | None, Form(ge=1, description="which face of the sample, 1 = leftmost (default: the "
                                                       "largest)")] = None,
    album_id: Annotated[int | None, Form()] = None,
    person_id: Annotated[int | None, Form()] = None,
) -> dict:
    result = search_by_sample(key.user_id, image_bytes(image), face_index=None if face is None else face - 1,
                              threshold_pct=threshold, top_k=top_k, album_id=album_id, person_id=person_id)
    return result_json(result)
