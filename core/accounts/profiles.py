"""Profiles: the display name and the avatar.

Avatars enter through the face engine's safe loader (so broken, hostile or oversized files are
refused with its message, before decoding, under `WEBTUBE_AVATAR_MAX_PIXELS`; larger JPEGs are
decoded reduced), are cropped to the centre square, resized and re-encoded: the stored file is
always our own WEBP, never the bytes that were uploaded.
"""

from __future__ import annotations

import io
import os
import secrets
from pathlib import Path

import cv2
from PIL import Image

from core.accounts.users import UnknownUser, UserInfo, clean_name, user_info
from core.config import get_settings
from core.faces.errors import ImageError
from core.faces.images import load_image
from core.storage.database import session_scope
from core.storage.models import User

AVATAR_SIZE = 256
MAX_AVATAR_BYTES = 5 * 1024 * 1024
AVATAR_TYPES = ("jpg", "jpeg", "png", "webp")
AVATAR_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP"})  # MPO: the JPEG that many cameras write
AVATAR_DIR = "avatars"


class AvatarRejected(ValueError):
    """The upload is not a usable JPG, PNG or WEBP image; the message says why."""


def avatar_image(data: bytes) -> bytes:
    """Validate an upload and return the avatar to store: a centred square, AVATAR_SIZE pixels, WEBP.

    The square is resized by OpenCV straight from a view of the decoded array (area averaging when
    shrinking): Pillow's `fromarray` would first copy the full-size square, up to 4 bytes a pixel.
    """
    if len(data) > MAX_AVATAR_BYTES:
        raise AvatarRejected(
            f"The picture is {len(data) / 2**20:.1f} MB; avatars can be at most {MAX_AVATAR_BYTES // 2**20} MB."
        )
    try:
        rgb = load_image(data, max_pixels=get_settings().avatar_max_pixels, formats=AVATAR_FORMATS)
    except ImageError as exc:
        raise AvatarRejected(str(exc)) from exc
    height, width = rgb.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    resampling = cv2.INTER_AREA if side > AVATAR_SIZE else cv2.INTER_LANCZOS4
    square = cv2.resize(rgb[top : top + side, left : left + side], (AVATAR_SIZE, AVATAR_SIZE), interpolation=resampling)
    out = io.BytesIO()
    Image.fromarray(square).save(out, format="WEBP", quality=85)
    return out.getvalue()


def avatar_file(user: UserInfo) -> Path | None:
    """Where `user`'s avatar lies, or None when they have none (or it went missing)."""
    if not user.avatar_path:
        return None
    path = get_settings().data_dir / user.avatar_path
    return path if path.is_file() else None


def _update(user_id: int, **fields: str | None) -> tuple[UserInfo, str | None]:
    """Change columns of one account; returns it as now stored and the avatar path it had before."""
    with session_scope() as session:
        user = session.get(User, user_id)
        if user is None:
            raise UnknownUser("This account no longer exists.")
        old_avatar = user.avatar_path
        for name, value in fields.items():
            setattr(user, name, value)
        session.flush()
        return user_info(user), old_avatar


def _drop(relative: str | None) -> None:
    if relative:
        (get_settings().data_dir / relative).unlink(missing_ok=True)


def set_avatar(user_id: int, data: bytes) -> UserInfo:
    """Store a new avatar under a fresh name (so browsers never show a stale one) and delete the old file."""
    encoded = avatar_image(data)
    relative = f"{AVATAR_DIR}/{user_id}-{secrets.token_hex(6)}.webp"
    target = get_settings().data_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    partial.write_bytes(encoded)
    os.replace(partial, target)
    try:
        user, old = _update(user_id, avatar_path=relative)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    _drop(old)
    return user


def remove_avatar(user_id: int) -> UserInfo:
    user, old = _update(user_id, avatar_path=None)
    _drop(old)
    return user


def rename(user_id: int, display_name: str) -> UserInfo:
    user, _ = _update(user_id, display_name=clean_name(display_name))
    return user
