"""Reading an image's bytes from a path or an upload, bounded: nothing given as a file can hang or flood us.

Why not `Path.read_bytes()`: a folder raises a traceback, opening a FIFO blocks until someone writes
to it, and /dev/zero or /dev/urandom never end. Here the path is opened without blocking
(O_NONBLOCK), checked to be a regular file on the open descriptor (so it cannot be swapped between
the check and the read), and read to at most the limit plus one byte.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from core.faces.errors import ImageTooLarge, UnreadableImage

_CHUNK = 1 << 20


def _not_regular(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "is a folder, not an image file"
    if stat.S_ISFIFO(mode):
        return "is a pipe (FIFO), not an image file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device, not an image file"
    return "is not a regular file"


def _too_large(size: int, limit: int) -> ImageTooLarge:
    return ImageTooLarge(f"The file is {size / 2**20:.1f} MB; images can be at most {limit // 2**20} MB.")


def read_bytes(source: bytes | bytearray | str | Path, limit: int) -> bytes:
    """The bytes of an upload or of the regular file at a path, refused past `limit` bytes."""
    if isinstance(source, (bytes, bytearray)):
        if len(source) > limit:
            raise _too_large(len(source), limit)
        return bytes(source)
    path = Path(source)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError as exc:
        raise UnreadableImage("The file does not exist.") from exc
    except PermissionError as exc:
        raise UnreadableImage("The file cannot be read: permission denied.") from exc
    except OSError as exc:
        raise UnreadableImage("The file cannot be opened (it is not a regular file, or the disk failed).") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableImage(f"The path {_not_regular(info.st_mode)}.")
        if info.st_size > limit:
            raise _too_large(info.st_size, limit)
        chunks, total = [], 0
        while total <= limit and (chunk := os.read(fd, min(_CHUNK, limit + 1 - total))):
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise UnreadableImage("The file could not be read to the end (a disk or network error).") from exc
    finally:
        os.close(fd)
    if total > limit:  # it grew while we read it
        raise _too_large(total, limit)
    return b"".join(chunks)
