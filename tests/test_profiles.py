"""Profiles in core: avatars from real photos, hostile uploads refused, display names."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from core.accounts.profiles import AVATAR_SIZE, AvatarRejected, avatar_file, remove_avatar, rename, set_avatar
from core.accounts.users import InvalidName, UserInfo, get_user, register
from core.config import get_settings
from core.faces.decode_slots import HEAVY_DECODE_BYTES, decode_slot

pytestmark = pytest.mark.both_databases


def _user() -> UserInfo:
    return register("Ann", "ann@example.com", "a long enough password", "a long enough password")


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny real PNG whose header is rewritten to declare `width` x `height`: a decompression bomb."""
    out = io.BytesIO()
    Image.new("RGB", (1, 1)).save(out, format="PNG")
    data = out.getvalue()
    chunk = b"IHDR" + struct.pack(">II", width, height) + data[24:29]
    return data[:12] + chunk + struct.pack(">I", zlib.crc32(chunk)) + data[33:]


@pytest.mark.parametrize(
    "photo", ["people/kit_harington/kit_harington_1.jpg", "people/lin_manuel_miranda/lin_manuel_miranda_1.png"]
)
def test_an_avatar_is_cropped_square_resized_and_stored_as_webp(site: Path, faces_dir: Path, photo: str) -> None:
    user = set_avatar(_user().id, (faces_dir / photo).read_bytes())
    stored = avatar_file(user)
    assert stored is not None and stored.is_relative_to(site / "avatars")
    with Image.open(stored) as image:
        assert (image.format, image.size) == ("WEBP", (AVATAR_SIZE, AVATAR_SIZE))


def test_a_new_avatar_replaces_the_old_file(site: Path, faces_dir: Path) -> None:
    user = _user()
    first = avatar_file(set_avatar(user.id, (faces_dir / "people/biden/biden_1.jpg").read_bytes()))
    second = avatar_file(set_avatar(user.id, (faces_dir / "people/biden/biden_2.jpg").read_bytes()))
    assert first is not None and second is not None and first != second
    assert not first.exists()
    assert list((site / "avatars").iterdir()) == [second]
    assert avatar_file(remove_avatar(user.id)) is None
    assert not second.exists()


def test_a_webp_upload_is_accepted(site: Path, faces_dir: Path) -> None:
    out = io.BytesIO()
    Image.open(faces_dir / "people/obama/obama_1.jpg").save(out, format="WEBP")
    assert avatar_file(set_avatar(_user().id, out.getvalue())) is not None


@pytest.mark.parametrize(
    "data, message",
    [
        (b"just some text, not a picture", "not an image we can read"),
        (b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n", "PDF document, not an image"),
        (b"", "empty"),
        (_png_claiming(10_000, 10_000), "too many pixels|limit is"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "damaged|not an image|cannot be read"),
    ],
)
def test_broken_or_hostile_uploads_are_refused_with_a_message(site: Path, data: bytes, message: str) -> None:
    user = _user()
    with pytest.raises(AvatarRejected, match=message):
        set_avatar(user.id, data)
    assert get_user(user.id).avatar_path is None  # type: ignore[union-attr]
    assert not (site / "avatars").exists() or not any((site / "avatars").iterdir())


def test_images_other_than_jpg_png_webp_are_refused(site: Path) -> None:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(out, format="GIF")
    with pytest.raises(AvatarRejected, match="JPG, PNG or WEBP"):
        set_avatar(_user().id, out.getvalue())


def test_oversized_uploads_are_refused_before_decoding(site: Path) -> None:
    with pytest.raises(AvatarRejected, match="at most 5 MB"):
        set_avatar(_user().id, b"\xff\xd8\xff" + b"\0" * (6 * 1024 * 1024))


def test_rename(site: Path) -> None:
    user = _user()
    assert rename(user.id, "  Ann   Smith ").display_name == "Ann Smith"
    assert get_user(user.id).display_name == "Ann Smith"  # type: ignore[union-attr]
    with pytest.raises(InvalidName, match="at most 60"):
        rename(user.id, "x" * 61)
    with pytest.raises(InvalidName, match="enter a display name"):
        rename(user.id, " ")


def test_the_issue_s_small_png_of_40_mp_is_refused_from_its_header(site: Path) -> None:
    out = io.BytesIO()
    Image.new("RGB", (7000, 5671)).save(out, format="PNG")  # ~120 KB on disk, 39.7 MP once decoded
    user = _user()
    with pytest.raises(AvatarRejected, match=r"7000x5671 \(40 MP\); the limit is 16 MP"):
        set_avatar(user.id, out.getvalue())
    assert get_user(user.id).avatar_path is None  # type: ignore[union-attr]
    assert not (site / "avatars").exists()


def test_a_busy_server_refuses_the_avatar_with_a_sentence_and_stores_nothing(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBTUBE_HEAVY_DECODES", "1")
    monkeypatch.setenv("WEBTUBE_DECODE_WAIT_S", "0.2")
    get_settings.cache_clear()
    out = io.BytesIO()
    Image.new("RGB", (2000, 1500), "teal").save(out, format="PNG")
    user = _user()
    with decode_slot(HEAVY_DECODE_BYTES), pytest.raises(AvatarRejected, match=r"busy .* try again"):
        set_avatar(user.id, out.getvalue())
    assert get_user(user.id).avatar_path is None  # type: ignore[union-attr]
    assert avatar_file(set_avatar(user.id, out.getvalue())) is not None  # the slot is free again
