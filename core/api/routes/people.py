"""/api/v1/people: list, make from photos, rename, merge and delete the people of my library."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, UploadFile
from pydantic import BaseModel, Field

from core.api.auth import Reader, Writer
from core.api.records import as_json
from core.api.uploads import image_bytes
from core.studio import people
from core.studio.people_from_photos import check_photo_count, create_person_from_photos

router = APIRouter(prefix="/people", tags=["people"])


class Rename(BaseModel):
    name: str = Field(min_length=1, max_length=people.NAME_MAX)
    notes: str | None = Field(None, max_length=2000)


class Merge(BaseModel):
    source_ids: list[int] = Field(min_length=1, description="the people merged into this one (they go)")


@router.get("", summary="My people, found by name and sorted")
def list_people(key: Reader, search: str = "", sort: Literal["name", "faces", "recent"] = "name") -> list[dict]:
    return as_json(people.list_people(key.user_id, search, sort))


@router.post("", status_code=201, summary="A new person from photos of them (each photo shows exactly one face)")
def create(key: Writer, name: Annotated[str, Form(min_length=1, max_length=people.NAME_MAX)],
           photos: list[UploadFile], notes: Annotated[str, Form(max_length=2000)] = "") -> dict:
    check_photo_count(len(photos))  # before reading any of them
    files = [(upload.filename or "photo", image_bytes(upload)) for upload in photos]
    return as_json(create_person_from_photos(key.user_id, name, files, notes))


@router.get("/{person_id}", summary="One person")
def get(key: Reader, person_id: int) -> dict:
    return as_json(people.get_person(key.user_id, person_id))


@router.get("/{person_id}/faces", summary="A person's faces")
def faces(key: Reader, person_id: int) -> list[dict]:
    return as_json(people.person_faces(key.user_id, person_id))


@router.patch("/{person_id}", summary="Rename a person (and change their notes)")
def rename(key: Writer, person_id: int, change: Rename) -> dict:
    return as_json(people.rename_person(key.user_id, person_id, change.name, change.notes))


@router.post("/{person_id}/merge", summary="Merge other people into this one: their faces become theirs")
def merge(key: Writer, person_id: int, merge: Merge) -> dict:
    return as_json(people.merge_people(key.user_id, merge.source_ids, person_id))


@router.delete("/{person_id}", summary="Delete a person and every face named as them (their photos stay)")
def delete(key: Writer, person_id: int) -> dict:
    return {"deleted_faces": people.delete_person(key.user_id, person_id)}
