"""/api/v1/albums and /api/v1/photos: albums, their photos, and imports (uploads, zips, cloud links) as jobs."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, UploadFile
from pydantic import BaseModel, Field

from core.api.auth import Reader, Writer
from core.api.records import as_json
from core.api.uploads import upload_streams
from core.studio import library
from core.studio.errors import NotFound
from core.studio.jobs import stage_uploads, start_import
from core.studio.records import AlbumInfo

router = APIRouter(tags=["albums"])


class NewAlbum(BaseModel):
    name: str = Field(min_length=1, max_length=120)


class CloudLink(BaseModel):
    link: str = Field(min_length=1, max_length=2048, description="a Yandex.Disk public link or a VK album link")
    album: str | None = Field(None, max_length=120, description="the album to import into (default: the source's "
                                                                 "name)")
    token: str | None = Field(None, max_length=500, description="a VK access token; used for this import only, "
                                                                "never stored in plain text")


def _album(owner_id: int, album_id: int) -> AlbumInfo:
    for album in library.list_albums(owner_id):
        if album.id == album_id:
            return album
    raise NotFound("There is no such album in your library.")


@router.get("/albums", summary="My albums")
def albums(key: Reader) -> list[dict]:
    return as_json(library.list_albums(key.user_id))


@router.post("/albums", status_code=201, summary="Make an album")
def create_album(key: Writer, album: NewAlbum) -> dict:
    return as_json(library.create_album(key.user_id, album.name))


@router.get("/albums/{album_id}/photos", summary="One page of an album's photos, newest first")
def album_photos(key: Reader, album_id: int, page: int = 1, page_size: int = 48,
                 status: Literal["processed", "no_faces", "failed"] | None = None) -> dict:
    return as_json(library.list_photos(key.user_id, album_id, status, page, page_size))


@router.post("/albums/{album_id}/photos", status_code=202,
             summary="Upload photos or zips of photos into an album: starts an import job")
def upload(key: Writer, album_id: int, files: list[UploadFile]) -> dict:
    album = _album(key.user_id, album_id)
    staged = stage_uploads(key.user_id, upload_streams(files))
    return {"job_id": start_import(key.user_id, staged, album.name, "upload")}


@router.post("/albums/import", status_code=202,
             summary="Import a cloud album (Yandex.Disk public link, VK album): starts an import job")
def import_link(key: Writer, source: CloudLink) -> dict:
    from core.cloud.importer import start_cloud_import

    return {"job_id": start_cloud_import(key.user_id, source.link, source.album, source.token)}


@router.delete("/albums/{album_id}", summary="Delete an album (with_photos: also its photos in no other album)")
def delete_album(key: Writer, album_id: int, with_photos: bool = False) -> dict:
    library.delete_album(key.user_id, album_id, with_photos)
    return {"deleted": album_id}


@router.get("/photos/{photo_id}", summary="A photo and its faces")
def photo(key: Reader, photo_id: int) -> dict:
    return as_json(library.photo_detail(key.user_id, photo_id))


@router.delete("/photos/{photo_id}", summary="Delete a photo, its faces and its file")
def delete_photo(key: Writer, photo_id: int) -> dict:
    library.delete_photo(key.user_id, photo_id)
    return {"deleted": photo_id}
