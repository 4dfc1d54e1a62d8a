"""Image intake against files that hang, never end, or are small but decode large (issue 8, part 4).

Every attack file is made here at test time: the 40-49 MP ones are flat pictures that compress to a
few hundred KB, which is exactly the attack. Each must be refused from its header (or, for a JPEG,
decoded reduced) with one sentence of ours; the memory they cost is measured by bench/bench_memory.py.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from core.accounts.profiles import AVATAR_SIZE, AvatarRejected, avatar_image
from core.config import get_settings
from core.faces.decode_slots import HEAVY_DECODE_BYTES, decode_slot
from core.faces.detector import FaceDetector
from core.faces.errors import DecoderBusy, ImageError, ImageTooLarge, UnreadableImage
from core.faces.images import bytes_per_pixel, load_image
from core.faces.mtcnn import _INT32_TABLE_MAX_PIXELS


def _encode(img: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    img.save(out, format=fmt, **options)
    return out.getvalue()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Set WEBTUBE_* variables for one test: env(max_decoded_mb=8)."""

    def set_env(**values: object) -> None:
        for name, value in values.items():
            monkeypatch.setenv(f"WEBTUBE_{name.upper()}", str(value))
        get_settings.cache_clear()

    yield set_env
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def photo(faces_dir: Path) -> Image.Image:
    return Image.open(faces_dir / "people" / "obama" / "obama_2.jpg").convert("RGB")


@pytest.fixture(scope="module")
def bombs(photo: Image.Image) -> dict[str, bytes]:
    """The issue's files: small on disk, 40-49 MP once decoded."""
    return {
        "rgb_zeros_39.7mp.png": _encode(Image.new("RGB", (7000, 5671)), "PNG"),
        "rgba_45mp.png": _encode(Image.new("RGBA", (7750, 5800)), "PNG"),
        "grey16_40mp.png": _encode(Image.fromarray(np.zeros((5000, 8000), np.uint16)), "PNG"),
        "float_40mp.tif": _encode(
            Image.fromarray(np.zeros((5480, 7300), np.float32)), "TIFF", compression="tiff_adobe_deflate"
        ),
        "photo_40mp.jpg": _encode(photo.resize((7300, 5480), Image.Resampling.BILINEAR), "JPEG", quality=85),
    }


def _answers_within(seconds: float, call: Callable[[], object]) -> BaseException | object:
    """Run `call` on a thread and insist it answers in time: a FIFO or a device must never block us."""
    answer: list[BaseException | object] = []

    def run() -> None:
        try:
            answer.append(call())
        except BaseException as exc:  # handed back to the test
            answer.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert answer, f"no answer within {seconds} s"
    return answer[0]


# --- paths that are not regular files -----------------------------------------------------------


def test_a_folder_is_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(UnreadableImage, match=r"^The path is a folder, not an image file\.$"):
        load_image(tmp_path)


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "photo.jpg"
    os.mkfifo(fifo)
    answer = _answers_within(10, lambda: load_image(fifo))
    assert isinstance(answer, UnreadableImage) and str(answer) == "The path is a pipe (FIFO), not an image file."


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_endless_devices_are_refused_without_reading(device: str, tmp_path: Path) -> None:
    answer = _answers_within(10, lambda: load_image(device))
    assert isinstance(answer, UnreadableImage) and str(answer) == "The path is a device, not an image file."
    link = tmp_path / "innocent.png"
    link.symlink_to(device)  # the check is made on what was opened, not on the name
    answer = _answers_within(10, lambda: load_image(link))
    assert isinstance(answer, UnreadableImage) and "device" in str(answer)


def test_a_missing_file_is_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(UnreadableImage, match=r"^The file does not exist\.$"):
        load_image(tmp_path / "nowhere.jpg")


def test_empty_and_text_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.png"
    empty.touch()
    with pytest.raises(UnreadableImage, match=r"^The file is empty\.$"):
        load_image(empty)
    text = tmp_path / "notes.png"
    text.write_text("a shopping list, not a photo\n" * 10)
    with pytest.raises(UnreadableImage, match="not an image we can read"):
        load_image(text)


def test_a_truncated_png_gets_our_sentence_not_the_library_s(tmp_path: Path, photo: Image.Image) -> None:
    data = _encode(photo, "PNG")
    cut = tmp_path / "cut.png"
    cut.write_bytes(data[: len(data) * 3 // 5])
    with pytest.raises(UnreadableImage) as refused:
        load_image(cut)
    assert str(refused.value) == "The image is truncated or damaged and cannot be read."


def test_a_file_over_the_upload_limit_is_refused_before_it_is_read(tmp_path: Path, env: Callable[..., None]) -> None:
    env(max_upload_mb=1)
    big = tmp_path / "big.jpg"
    big.write_bytes(b"\xff\xd8\xff" + b"\0" * (2 * 2**20))
    with pytest.raises(ImageTooLarge, match=r"2\.0 MB; images can be at most 1 MB"):
        load_image(big)
    with pytest.raises(ImageTooLarge, match="at most 1 MB"):
        load_image(big.read_bytes())


# --- small files that decode large --------------------------------------------------------------


@pytest.mark.parametrize("name", ["rgb_zeros_39.7mp.png", "rgba_45mp.png", "grey16_40mp.png", "float_40mp.tif"])
def test_the_issue_s_files_are_refused_as_face_photos(bombs: dict[str, bytes], name: str) -> None:
    assert len(bombs[name]) < 1_000_000  # the attack: well under a megabyte on disk
    with pytest.raises(ImageTooLarge, match=r"MP\); the limit is 12 MP\.$"):
        load_image(bombs[name])


@pytest.mark.parametrize("name", ["rgb_zeros_39.7mp.png", "rgba_45mp.png", "grey16_40mp.png"])
def test_the_issue_s_files_are_refused_as_avatars(bombs: dict[str, bytes], name: str) -> None:
    with pytest.raises(AvatarRejected, match=r"the limit is 16 MP\.$"):
        avatar_image(bombs[name])


def test_a_float_tiff_is_not_even_opened_as_an_avatar(bombs: dict[str, bytes]) -> None:
    with pytest.raises(AvatarRejected, match=r"^TIFF images are not accepted here\. Use JPG, PNG or WEBP\.$"):
        avatar_image(bombs["float_40mp.tif"])


def test_a_40_mp_jpeg_is_decoded_at_half_scale(bombs: dict[str, bytes]) -> None:
    assert load_image(bombs["photo_40mp.jpg"]).shape == (2740, 3650, 3)  # 10 MP: under the 12 MP face cap
    with Image.open(io.BytesIO(avatar_image(bombs["photo_40mp.jpg"]))) as avatar:
        assert avatar.size == (AVATAR_SIZE, AVATAR_SIZE)


def test_a_jpeg_is_reduced_further_to_fit_the_byte_cap(bombs: dict[str, bytes], env: Callable[..., None]) -> None:
    env(max_decoded_mb=8)  # 1/2 (40 MB) and 1/4 (10 MB) at 4 bytes a pixel are over; 1/8 is 2.5 MB
    assert load_image(bombs["photo_40mp.jpg"]).shape == (685, 913, 3)


def test_a_jpeg_over_the_absolute_cap_is_refused_not_reduced(bombs: dict[str, bytes], env: Callable[..., None]) -> None:
    env(max_image_pixels=30_000_000)
    with pytest.raises(ImageTooLarge, match=r"7300x5480 \(40 MP\); the limit is 30 MP"):
        load_image(bombs["photo_40mp.jpg"])


def test_the_byte_cap_counts_the_mode_and_bit_depth(env: Callable[..., None]) -> None:
    env(max_decoded_mb=8)  # 3 MP: 3 MB as 8-bit grey, 6 MB as 16-bit, 12 MB as float or RGBA
    size = (2000, 1500)
    grey8 = _encode(Image.new("L", size, 128), "PNG")
    grey16 = _encode(Image.fromarray(np.full(size[::-1], 40000, np.uint16)), "PNG")
    floats = _encode(Image.fromarray(np.full(size[::-1], 0.5, np.float32)), "TIFF", compression="tiff_adobe_deflate")
    rgba = _encode(Image.new("RGBA", size), "PNG")
    assert load_image(grey8).shape == (1500, 2000, 3)
    assert load_image(grey16).shape == (1500, 2000, 3)
    refusal = r"^The image is 2000x1500 at 4 bytes a pixel \(11 MB once opened\); the limit is 8 MB\.$"
    for data in (floats, rgba):
        with pytest.raises(ImageTooLarge, match=refusal):
            load_image(data)


@pytest.mark.parametrize(("mode", "size"), [("L", 1), ("P", 1), ("1", 1), ("I;16", 2), ("I", 4), ("F", 4),
                                            ("RGB", 4), ("RGBA", 4), ("CMYK", 4), ("LA", 4)])
def test_bytes_per_pixel_is_what_pillow_allocates(mode: str, size: int) -> None:
    assert bytes_per_pixel(mode) == size


# --- conversion in bands, in float32 --------------------------------------------------------------


def _reference_grey(values: np.ndarray, top: float) -> np.ndarray:
    return np.clip(values.astype(np.float64) / top * 255.0 + 0.5, 0, 255).astype(np.uint8)


@pytest.mark.parametrize(("dtype", "scale", "top"), [(np.uint16, 65535, 65535.0), (np.int32, 60000, 65535.0),
                                                      (np.int32, 255, 255.0), (np.float32, 1000.0, 65535.0)])
def test_deep_images_keep_their_contrast_across_bands(dtype: type, scale: float, top: float) -> None:
    rng = np.random.default_rng(8)
    values = (rng.random((1100, 2048)) * scale).astype(dtype)  # 2048 wide: 512 rows a band, three bands
    rgb = load_image(_encode(Image.fromarray(values), "TIFF"))
    expected = _reference_grey(values, top)
    assert rgb.shape == (1100, 2048, 3)
    assert np.abs(rgb[:, :, 1].astype(int) - expected).max() <= 1
    assert (rgb[:, :, 0] == rgb[:, :, 2]).all()


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "P", "L", "LA"])
def test_banded_conversion_matches_pillow_on_the_whole_image(photo: Image.Image, mode: str) -> None:
    big = photo.resize((2048, 1300)).convert(mode)
    if mode in {"RGBA", "LA"}:
        big.putalpha(Image.linear_gradient("L").resize(big.size))
    rgb = load_image(_encode(big, "PNG"))
    whole = big.convert("RGBA")
    expected = np.asarray(Image.alpha_composite(Image.new("RGBA", whole.size, "white"), whole).convert("RGB"))
    assert np.array_equal(rgb, expected)


# --- at most a couple of heavy decodes at once ----------------------------------------------------


@pytest.fixture
def heavy_png() -> bytes:
    """3 MP of RGB: about 21 MB to decode and convert, over the heavy-decode threshold."""
    assert HEAVY_DECODE_BYTES <= 2000 * 1500 * 7
    return _encode(Image.new("RGB", (2000, 1500), (10, 20, 30)), "PNG")


def test_a_third_heavy_decode_waits_then_says_the_server_is_busy(heavy_png: bytes, env: Callable[..., None]) -> None:
    env(heavy_decodes=2, decode_wait_s=0.3)
    with decode_slot(HEAVY_DECODE_BYTES), decode_slot(HEAVY_DECODE_BYTES):  # two uploads decoding now
        with pytest.raises(DecoderBusy, match=r"^The server is busy opening other large pictures"):
            load_image(heavy_png)
        assert load_image(_encode(Image.new("RGB", (640, 480)), "JPEG")).shape == (480, 640, 3)  # frames never wait
    assert load_image(heavy_png).shape == (1500, 2000, 3)  # and once a slot is free, it goes through


def test_busy_is_an_image_error_every_upload_path_shows(heavy_png: bytes, env: Callable[..., None]) -> None:
    env(heavy_decodes=1, decode_wait_s=0.2)
    assert issubclass(DecoderBusy, ImageError)
    with decode_slot(HEAVY_DECODE_BYTES), pytest.raises(AvatarRejected, match="busy"):
        avatar_image(heavy_png)


def test_uploads_at_once_all_go_through_when_the_wait_is_long_enough(
    heavy_png: bytes, env: Callable[..., None]
) -> None:
    env(heavy_decodes=2, decode_wait_s=60)
    results: list[tuple[int, ...]] = []
    threads = [threading.Thread(target=lambda: results.append(load_image(heavy_png).shape)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert results == [(1500, 2000, 3)] * 4


def test_the_whole_image_is_never_in_float64(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every array the loader makes from a 16-bit image is uint8, uint16 or float32 (40 MP in float64: 320 MB)."""
    made: set[np.dtype] = set()
    real_asarray, real_astype = np.asarray, np.ndarray.astype

    class Spy(np.ndarray):
        def astype(self, dtype: object, *args: object, **kwargs: object) -> np.ndarray:
            made.add(np.dtype(dtype))
            return real_astype(self, dtype, *args, **kwargs)

    def asarray(*args: object, **kwargs: object) -> np.ndarray:
        array = real_asarray(*args, **kwargs)
        made.add(array.dtype)
        return array.view(Spy)

    monkeypatch.setattr(np, "asarray", asarray)
    rgb = load_image(_encode(Image.fromarray(np.full((300, 400), 1234, np.uint16)), "PNG"))
    assert rgb.dtype == np.uint8 and int(rgb[0, 0, 0]) == round(1234 / 65535 * 255)
    assert np.dtype(np.float32) in made and np.dtype(np.float64) not in made


def test_detection_never_hands_the_cascade_a_frame_past_its_int32_table(
    faces_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With WEBTUBE_DETECT_MAX_SIDE set high, an 18.8 MP photo would have needed a float64 table (450 MB)."""
    detector = FaceDetector(torch.device("cpu"), min_face_px=400, max_side=8000)
    seen: list[tuple[int, ...]] = []
    real_detect = detector.cascade.detect
    monkeypatch.setattr(detector.cascade, "detect", lambda rgb: (seen.append(rgb.shape), real_detect(rgb))[1])
    photo = load_image(faces_dir / "people" / "obama" / "obama_2.jpg")
    big = cv2.resize(photo, (photo.shape[1] * 5, photo.shape[0] * 5), interpolation=cv2.INTER_LINEAR)
    faces = detector.detect(big)
    assert seen[0][0] * seen[0][1] <= _INT32_TABLE_MAX_PIXELS < big.shape[0] * big.shape[1]
    assert len(faces) == 1 and faces[0].box[2] - faces[0].box[0] > 400  # found, in the big photo's pixels
