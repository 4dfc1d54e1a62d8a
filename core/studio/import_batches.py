"""An import job's pending items through the face batches: photos prepared ahead in threads, faces of many
photos embedded in one pass (core/faces/batching.py), each photo then recorded by `record_item`.

Why batches: only together can many photos' faces share a forward pass (one pass for many photos on a GPU;
passes of a few faces measured no slower on the CPU, so every device runs this one path). Recording
(`record_item` claims the item in the transaction of its photo and faces), so a resumed or raced job
still records each item at most once, and an item whose photo was prepared but not yet recorded when the
process died is simply still pending. A failing forward pass (out of GPU memory, a lost device) fails
the job with the photos not yet recorded still pending, for a retry, rather than as failures of theirs.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core.faces.batching import PhotoFaces, analyse_photos, batch_size
from core.faces.engine import get_engine
from core.faces.errors import ImageError
from core.monitoring import metrics
from core.studio.importer import (
    Analysed,
    ItemAlreadyDone,
    decode_file,
    keep_faces,
    read_item,
    record_failure,
    record_item,
)

_log = logging.getLogger(__name__)


@dataclass
class _Item:
    """A pending job item on its way through the batches; `found` is filled by the thread that decodes it."""

    seq: int
    item: dict
    found: Analysed | None = None


def _decoder(read: Callable[[dict], bytes]) -> Callable[[_Item], np.ndarray | None]:
    """Read (from disk, or a cloud import's download) and decode one item, in a preparing thread."""

    def decode(pending: _Item) -> np.ndarray | None:
        pending.found, rgb = decode_file(read(pending.item))
        return rgb

    return decode


def _record(owner_id: int, album_id: int | None, job_id: int, photo: PhotoFaces[_Item]) -> None:
    """Record one photo's outcome; whatever went wrong with it is its own failure line, never the import's end."""
    seq = photo.item.seq
    try:
        if photo.error is not None:
            raise photo.error
        assert photo.item.found is not None  # set by the decoder, which succeeded
        record_item(owner_id, album_id, job_id, seq, photo.item.item, keep_faces(photo.item.found, photo.faces))
    except ItemAlreadyDone:
        _log.info("studio: job %s item %s was recorded by another worker", job_id, seq)
        return
    except ImageError as exc:  # the file could not be read: the loader's sentence is the report line
        with contextlib.suppress(ItemAlreadyDone):
            record_failure(job_id, seq, str(exc))
    except Exception as exc:
        _log.exception("studio: job %s item %s", job_id, seq)
        with contextlib.suppress(ItemAlreadyDone):
            record_failure(job_id, seq, f"The photo could not be imported ({type(exc).__name__}).")
        return
    metrics.items_processed("import")


def import_batched(owner_id: int, album_id: int | None, job_id: int, pending: list[tuple[int, dict]],
                   workers: int, keep_going: Callable[[], bool], read: Callable[[dict], bytes] = read_item) -> None:
    """Import the (seq, item) pairs in order while `keep_going()` holds (asked before each record: a cancelled
    or taken-over job stops there, the photos prepared but not recorded stay pending). `read` gives an item's
    bytes (its file, by default); an ImageError it raises is that item's failure line."""
    engine = get_engine()
    items = (_Item(seq, item) for seq, item in pending)
    photos = analyse_photos(engine, items, _decoder(read), batch_size(engine), workers)
    with contextlib.closing(photos):  # stopping early still waits for the photos in preparation
        for photo in photos:
            if not keep_going():
                return
            _record(owner_id, album_id, job_id, photo)
