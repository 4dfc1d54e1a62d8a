"""Faces of many photos at once: the next photos are prepared in threads while the model embeds, and the
chips of many photos go through the embedder in one forward pass.

Why: photo by photo, a forward pass holds one photo's two or three chips, too few to fill a GPU (each
pass costs its launches and a host-device round trip whatever its size), and the GPU waits while the
next photo is decoded. Here `workers` threads decode, detect, align and judge photos ahead of the
embedder (at most `2 * workers` photos ahead: a prepared photo keeps its chips, never its pixels, so
memory stays bounded), and the caller's thread embeds the chips of consecutive photos together (a pass
takes whole photos until it holds `batch` faces, or `batch` photos) and hands the photos back in the
order they came. Detection stays per photo: MTCNN's pyramid depends on each image's size, and running
it in the worker threads already overlaps it with the embedding. Threads (`concurrent.futures`), not
processes: Pillow's decoder and PyTorch's kernels release the GIL, and the models stay loaded once.

A photo that fails (cannot be decoded, or its preparation raises) comes back in its place with its own
error and the others go on. A failing pass (the device's trouble, never a photo's) ends the stream:
the photos not yet handed back are the caller's to retry.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import numpy as np

from core.faces.engine import FaceEngine
from core.faces.types import Face

T = TypeVar("T")
_END = object()  # marks the end of the items
# Faces a forward pass takes when WEBTUBE_EMBED_BATCH is not set: a GPU wants many (a pass's launches and
# round trip cost the same whatever its size; not yet measured on one); on a CPU a pass costs in proportion
# to its chips, and bench_gpu_import measured 8 as fast as photo by photo and 32 slower (its last pass
# overlaps nothing), while small passes keep an import's progress and stops prompt.
DEFAULT_BATCH = {"cuda": 128, "cpu": 8}


@dataclass
class PhotoFaces(Generic[T]):
    """One photo's outcome: every face found (largest first, embedded), or the error of this photo alone."""

    item: T
    faces: list[Face] = field(default_factory=list)
    error: Exception | None = None


def batch_size(engine: FaceEngine) -> int:
    """Faces a pass: WEBTUBE_EMBED_BATCH, else the default for the engine's device."""
    return engine.settings.embed_batch or DEFAULT_BATCH.get(engine.device.type, DEFAULT_BATCH["cpu"])


def _prepare(engine: FaceEngine, decode: Callable[[T], np.ndarray | None], item: T) -> PhotoFaces[T]:
    """Decode, detect, align and judge one photo (no embedding); `decode` returning None means no pixels."""
    try:
        rgb = decode(item)
        return PhotoFaces(item, [] if rgb is None else engine.analyse(rgb, embed=False))
    except Exception as exc:  # this photo's failure, reported in its place
        return PhotoFaces(item, error=exc)


def _embed(engine: FaceEngine, photos: list[PhotoFaces[T]]) -> None:
    """The faces of all `photos` in one forward pass.

    Not caught: a pass fails only for the device's sake (memory, a lost GPU), never for one photo's (every
    chip has one shape), so its error ends the stream rather than being pinned on the photos of the pass.
    """
    faced = [face for photo in photos for face in photo.faces]
    if faced:
        for face, vector in zip(faced, engine.embed_chips(np.stack([face.chip for face in faced])), strict=True):
            face.embedding = vector


def analyse_photos(engine: FaceEngine, items: Iterable[T], decode: Callable[[T], np.ndarray | None],
                   batch: int, workers: int) -> Iterator[PhotoFaces[T]]:
    """Every item's faces, embedded about `batch` faces a pass, in the order of `items`.

    `decode(item)` gives the photo's RGB pixels (or None when it has none to search) and runs in one of
    `workers` threads; `items` is read lazily, as far as the look-ahead needs. A caller that stops early
    closes the generator: the photos in preparation finish, the others are never started.
    """
    source = iter(items)
    ahead: deque[Future[PhotoFaces[T]]] = deque()
    pool = ThreadPoolExecutor(workers, thread_name_prefix="face-batch")

    def top_up() -> None:
        while len(ahead) < 2 * workers:
            item = next(source, _END)
            if item is _END:
                return
            ahead.append(pool.submit(_prepare, engine, decode, item))

    try:
        top_up()
        while ahead:
            photos: list[PhotoFaces[T]] = []
            faces = 0
            while ahead and faces < batch and len(photos) < batch:
                photo = ahead.popleft().result()
                top_up()
                photos.append(photo)
                faces += len(photo.faces)
            _embed(engine, photos)
            yield from photos
    finally:
        pool.shutdown(wait=True, cancel_futures=True)

