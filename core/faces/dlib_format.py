"""A reader for dlib's binary serialization, enough to load a trained DNN without dlib itself.

Why our own: the embedder must run in PyTorch on any machine, so the weights are read straight
from dlib's `.dat` file. The encodings follow dlib/serialize.h and dlib/cuda/tensor.h:

- integers: a control byte (bit 0x80 = negative, low 4 bits = byte count) then the magnitude,
  little endian; zero takes one byte.
- floating point numbers: a signed 64-bit mantissa then a signed 16-bit exponent, both as
  integers above (value = mantissa * 2**exponent; exponents 32000..32002 mean +inf, -inf, NaN).
- strings: a length then raw bytes; bools: the ASCII byte '1' or '0'.
- tensors: version 2 holds four dimensions then little-endian float32 data; version 1 (dlib
  before 2016) holds each element as a floating point number as above.

Models made of millions of small numbers (the shape predictor's regression trees) are read in bulk
with `read_int_array` and `read_float_array`, which decode a run of integers with numpy.

Every failure is a `DlibFormatError`, a `ModelUnavailable` that says where the file broke.
"""

from __future__ import annotations

import math

import numpy as np

from core.faces.errors import ModelUnavailable

_INF_EXPONENT, _NINF_EXPONENT, _NAN_EXPONENT = 32000, 32001, 32002


class DlibFormatError(ModelUnavailable):
    """The model file is truncated, corrupt or not the network we expect."""


class DlibReader:
    """Sequential reader over the bytes of one dlib-serialized object."""

    def __init__(self, data: bytes, source: str = "model file") -> None:
        self._data = memoryview(data)
        self._pos = 0
        self.source = source

    @property
    def position(self) -> int:
        return self._pos

    def at_end(self) -> bool:
        return self._pos == len(self._data)

    def fail(self, what: str) -> DlibFormatError:
        """An error naming the file and byte offset, for the caller to raise."""
        return DlibFormatError(f"{self.source} is damaged or not a dlib model: {what} (at byte {self._pos}).")

    def _take(self, count: int) -> memoryview:
        end = self._pos + count
        if count < 0 or end > len(self._data):
            raise self.fail(f"needed {count} more bytes but the file ends")
        chunk = self._data[self._pos : end]
        self._pos = end
        return chunk

    def read_int(self) -> int:
        """A signed or unsigned integer in dlib's variable-length encoding."""
        control = self._take(1)[0]
        size = control & 0x0F
        if size == 0 or size > 8 or control & 0x70:
            raise self.fail(f"bad integer control byte 0x{control:02x}")
        value = int.from_bytes(self._take(size), "little")
        return -value if control & 0x80 else value

    def read_float(self) -> float:
        """A float or double stored as mantissa and exponent (both dlib integers)."""
        if self._pos < len(self._data) and self._data[self._pos] & 0x70:
            raise self.fail("floating point number in dlib's pre-2013 text encoding, which is not supported")
        mantissa = self.read_int()
        exponent = self.read_int()
        if exponent == _INF_EXPONENT:
            return math.inf
        if exponent == _NINF_EXPONENT:
            return -math.inf
        if exponent == _NAN_EXPONENT:
            return math.nan
        if mantissa.bit_length() > 63 or exponent >= _INF_EXPONENT:
            raise self.fail(f"floating point number out of range ({mantissa} * 2**{exponent})")
        try:
            return math.ldexp(mantissa, exponent)
        except OverflowError:  # C's ldexp gives infinity here, and so does dlib
            return math.copysign(math.inf, mantissa)

    def read_int_array(self, count: int) -> np.ndarray:
        """`count` consecutive integers as int64, decoded with numpy (a Python loop per number takes seconds).

        The integers are self-delimiting, so only finding where each starts is sequential; that loop
        touches one byte per number and everything else is vectorised.
        """
        data, pos = self._data, self._pos
        starts = [0] * count
        try:
            for index in range(count):
                starts[index] = pos
                pos += 1 + (data[pos] & 0x0F)
        except IndexError:
            self._pos = len(data)
            raise self.fail(f"needed {count} integers but the file ends") from None
        if pos > len(data):
            self._pos = len(data)
            raise self.fail(f"needed {count} integers but the file ends")
        raw = np.frombuffer(data, dtype=np.uint8)
        offsets = np.array(starts, dtype=np.int64)
        control = raw[offsets]
        size = control & 0x0F
        bad = np.flatnonzero((size == 0) | (size > 8) | (control & 0x70 != 0))
        if bad.size:
            self._pos = int(offsets[bad[0]])
            raise self.fail(f"bad integer control byte 0x{int(control[bad[0]]):02x}")
        magnitude = np.zeros(count, dtype=np.uint64)
        for byte in range(int(size.max(initial=0))):
            has = size > byte
            magnitude[has] |= raw[offsets[has] + 1 + byte].astype(np.uint64) << np.uint64(8 * byte)
        if (magnitude >> np.uint64(63)).any():
            raise self.fail("an integer does not fit in 63 bits")
        self._pos = pos
        value = magnitude.astype(np.int64)
        return np.where(control & 0x80, -value, value)

    def read_float_array(self, count: int) -> np.ndarray:
        """`count` consecutive floating point numbers as float64 (each is two integers, see `read_float`)."""
        parts = self.read_int_array(2 * count)
        return self.floats_from_parts(parts[0::2], parts[1::2])

    def floats_from_parts(self, mantissa: np.ndarray, exponent: np.ndarray) -> np.ndarray:
        """Vectorised `read_float` rule, for numbers read in bulk among other integers."""
        special = exponent >= _INF_EXPONENT
        if (exponent > _NAN_EXPONENT).any():
            raise self.fail("floating point number out of range")
        values = np.ldexp(mantissa.astype(np.float64), np.where(special, 0, exponent).astype(np.int32))
        if special.any():
            values[exponent == _INF_EXPONENT] = math.inf
            values[exponent == _NINF_EXPONENT] = -math.inf
            values[exponent == _NAN_EXPONENT] = math.nan
        return values

    def read_bool(self) -> bool:
        byte = self._take(1)[0]
        if byte not in (ord("0"), ord("1")):
            raise self.fail(f"expected a bool ('0' or '1'), found byte 0x{byte:02x}")
        return byte == ord("1")

    def read_string(self, max_length: int = 1 << 16) -> str:
        """A length-prefixed string; the cap stops a corrupt length from reading the whole file."""
        length = self.read_int()
        if not 0 <= length <= max_length:
            raise self.fail(f"implausible string length {length}")
        try:
            return bytes(self._take(length)).decode("ascii")
        except UnicodeDecodeError as exc:
            raise self.fail("a layer name is not ASCII text") from exc

    def expect_string(self, *allowed: str) -> str:
        """Read a version tag and insist it is one of `allowed` (so misreads fail early and clearly)."""
        start = self._pos
        tag = self.read_string(max_length=64)
        if tag not in allowed:
            self._pos = start
            raise self.fail(f"expected {' or '.join(repr(a) for a in allowed)}, found {tag!r}")
        return tag

    def expect_int(self, what: str, *allowed: int) -> int:
        value = self.read_int()
        if value not in allowed:
            raise self.fail(f"{what} is {value}, expected {' or '.join(map(str, allowed))}")
        return value

    def read_tensor(self) -> np.ndarray:
        """A dlib resizable_tensor as a float32 array of shape (num_samples, k, nr, nc)."""
        version = self.expect_int("tensor version", 1, 2)
        shape = tuple(self.read_int() for _ in range(4))
        if any(dim < 0 for dim in shape):
            raise self.fail(f"negative tensor dimension in {shape}")
        count = math.prod(shape)
        if version == 2:
            raw = self._take(4 * count)
            return np.frombuffer(raw, dtype="<f4").astype(np.float32).reshape(shape)
        return np.array([self.read_float() for _ in range(count)], dtype=np.float32).reshape(shape)

    def read_alias_tensor(self) -> tuple[int, int, int, int]:
        """An alias_tensor: only the shape of a view into a layer's parameter tensor."""
        self.expect_int("alias tensor version", 1)
        n, k, nr, nc = (self.read_int() for _ in range(4))
        return n, k, nr, nc
