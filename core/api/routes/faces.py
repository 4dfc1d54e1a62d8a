"""/api/v1/faces: the face engine on uploaded images (detect, embed, verify) and recognition among my people."""

from __future__ import annotations

from fastapi import APIRouter, UploadFile

from core.api.auth import Reader
from core.api.uploads import image_bytes
from core.faces.answers import detect_json, embed_json, verify_json
from core.faces.images import load_image
from core.studio.recognise_photo import photo_json, recognise_photo

router = APIRouter(prefix="/faces", tags=["faces"])


@router.post("/detect", summary="Find the faces of an image: boxes, five landmarks, detector score and quality")
def detect(key: Reader, image: UploadFile) -> dict:
    return {"faces": detect_json(load_image(image_bytes(image)))}


@router.post("/embed", summary="The embedding of every face of an image, with the model that made them")
def embed(key: Reader, image: UploadFile) -> dict:
    return embed_json(load_image(image_bytes(image)))


@router.post("/verify", summary="Are the main faces of two images the same person?")
def verify(key: Reader, first: UploadFile, second: UploadFile) -> dict:
    images = [load_image(image_bytes(upload)) for upload in (first, second)]
    return verify_json(images[0], images[1], (first.filename or "first", second.filename or "second"))


@router.post("/recognise", summary="Who each face of an image is, among the people of my library")
def recognise(key: Reader, image: UploadFile) -> dict:
    return photo_json(recognise_photo(key.user_id, image_bytes(image), pictures=False))
