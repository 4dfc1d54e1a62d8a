"""What an import is asked to read: photos, folders walked recursively, and zips opened safely.

Everything is decided before anything is imported, so bad input is one sentence and nothing is
half-written. A zip is checked from its directory first (member count against
WEBTUBE_ZIP_MAX_FILES, declared unpacked size against WEBTUBE_ZIP_MAX_MB), then unpacked into a
staging folder while the bytes actually written are counted, because a zip bomb can lie about its
sizes; crossing a cap refuses the whole import and removes what was unpacked. Inside a zip,
members named with `..` or an absolute path are never written anywhere (listed as failures), and a
zip inside the zip is not opened (one level only, so the caps cannot be multiplied by nesting; it
is listed as a failure saying to unpack it). Whether a member is an image is left to the importer's
safe loader, which names what a non-image is in its failure line. Hidden files (names starting with
a dot, such as `.DS_Store`) are skipped when a folder is walked. Why `zipfile` (standard library):
it reads the central directory without unpacking and streams members, which is all this needs.
"""

from __future__ import annotations

import os
import secrets
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from core.config import get_settings
from core.studio.errors import BadInput, TooLarge
from core.studio.library import owner_dir

_ZIP_MAGIC = b"PK\x03\x04"
_COPY_CHUNK = 1 << 20


@dataclass(frozen=True)
class Candidate:
    """One file to import, or one that is already known to fail (then `error` says why)."""

    source: Path | None  # the file to read (a staged copy for zip members and uploads)
    original_name: str
    origin: str  # where it came from: the path, or `archive.zip!member/path.jpg`
    error: str | None = None


def staging_dir(owner_id: int) -> Path:
    """A fresh folder for one import's staged files, under the owner's studio folder in the data dir."""
    folder = owner_dir(owner_id) / "staging" / secrets.token_hex(8)
    folder.mkdir(parents=True)
    return folder


def staging_root(owner_id: int) -> Path:
    """Where every staged upload of the owner lives (uploads must come from here)."""
    return owner_dir(owner_id) / "staging"


def import_roots() -> list[Path]:
    """The server folders admins may import from in the page (WEBTUBE_STUDIO_IMPORT_ROOTS), resolved."""
    raw = get_settings().studio_import_roots
    return [Path(part).expanduser().resolve() for part in raw.split(os.pathsep) if part.strip()]


def allowed_folder(path: str | Path) -> Path:
    """`path` resolved, if it is a folder under an allowed import root; otherwise one sentence saying why not."""
    roots = import_roots()
    if not roots:
        raise BadInput("Importing server folders from the page is off: set WEBTUBE_STUDIO_IMPORT_ROOTS.")
    resolved = Path(path).expanduser().resolve()
    if not any(resolved == root or resolved.is_relative_to(root) for root in roots):
        raise BadInput(f"{path} is not under an allowed import folder ({', '.join(map(str, roots))}).")
    if not resolved.is_dir():
        raise BadInput(f"{path} is not a folder on the server.")
    return resolved


def _is_zip(path: Path) -> bool:
    if path.suffix.lower() == ".zip":
        return True
    try:
        with path.open("rb") as handle:
            return handle.read(4) == _ZIP_MAGIC
    except OSError:
        return False


def _unsafe_member(name: str) -> bool:
    """A member path that could escape the staging folder: absolute, a drive, or with a `..` part."""
    posix = name.replace("\\", "/")
    parts = PurePosixPath(posix).parts
    return posix.startswith("/") or (len(posix) > 1 and posix[1] == ":") or ".." in parts


def _check_caps(path: Path, members: list[zipfile.ZipInfo], budget: list[int]) -> None:
    """The zip's declared sizes against the caps; `budget` is what the zips of this import may still unpack."""
    settings = get_settings()
    if len(members) > settings.zip_max_files:
        raise TooLarge(f"{path.name} holds {len(members)} files; a zip may hold at most {settings.zip_max_files}.")
    declared = sum(member.file_size for member in members)
    if declared > settings.zip_max_mb * 2**20:
        raise TooLarge(f"{path.name} unpacks to {declared / 2**20:.0f} MB; a zip may unpack to at most "
                       f"{settings.zip_max_mb} MB.")
    if declared > budget[0]:
        raise TooLarge(f"{path.name} unpacks to {declared / 2**20:.0f} MB; with the zips before it this import would "
                       f"unpack more than the {settings.zip_max_mb} MB one import may.")


def _unpack(archive: zipfile.ZipFile, member: zipfile.ZipInfo, target: Path, budget: list[int], name: str) -> None:
    """Copy one member to `target`, counting real bytes against the zip's remaining budget."""
    with archive.open(member) as source, target.open("wb") as out:
        while chunk := source.read(_COPY_CHUNK):
            budget[0] -= len(chunk)
            if budget[0] < 0:
                raise TooLarge(f"{name} unpacks to more than the {get_settings().zip_max_mb} MB a zip may hold "
                               "(its sizes are false: a zip bomb).")
            out.write(chunk)


def _from_zip(path: Path, origin: str, staging: Path, budget: list[int]) -> list[Candidate]:
    """The zip's files unpacked into `staging`, spending `budget` (bytes the whole import may unpack)."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return [Candidate(None, path.name, origin, "This zip is damaged and cannot be opened.")]
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        _check_caps(path, members, budget)
        max_file = get_settings().max_upload_mb * 2**20
        found = []
        for member in members:
            name = PurePosixPath(member.filename.replace("\\", "/")).name
            where = f"{origin}!{member.filename}"
            if _unsafe_member(member.filename):
                found.append(Candidate(None, name or member.filename, where,
                                       "Skipped: its path inside the zip leads outside it (.. or an absolute path)."))
            elif name.lower().endswith(".zip"):
                found.append(Candidate(None, name, where,
                                       "A zip inside a zip is not opened; unpack it and import its files."))
            elif member.flag_bits & 0x1:
                found.append(Candidate(None, name, where, "This file is encrypted in the zip and cannot be read."))
            elif member.file_size > max_file:
                found.append(Candidate(None, name, where, f"The file is {member.file_size / 2**20:.1f} MB; images "
                                                          f"can be at most {max_file // 2**20} MB."))
            else:
                target = staging / f"{secrets.token_hex(6)}{PurePosixPath(name).suffix[:10]}"
                try:
                    _unpack(archive, member, target, budget, path.name)
                except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError) as exc:
                    if isinstance(exc, BadInput):
                        raise
                    target.unlink(missing_ok=True)
                    found.append(Candidate(None, name, where, "This file is damaged inside the zip."))
                    continue
                with target.open("rb") as head:
                    nested = head.read(4) == _ZIP_MAGIC
                if nested:
                    target.unlink()
                    found.append(Candidate(None, name, where,
                                           "A zip inside a zip is not opened; unpack it and import its files."))
                else:
                    found.append(Candidate(target, name, where))
        return found


def _walk(folder: Path) -> list[Path]:
    files = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        files += [Path(root) / name for name in sorted(names) if not name.startswith(".")]
    return files


def gather(sources: list[Path], staging: Path, origins: list[str] | None = None) -> list[Candidate]:
    """Every file the sources name, in order (folders walked, zips unpacked into `staging`).

    `origins` (one per source) names where an upload came from; paths name themselves.
    A missing path, a zip over the caps or nothing at all to import raises BadInput, after removing
    whatever was unpacked, so nothing is left half-written.
    """
    budget = [get_settings().zip_max_mb * 2**20]  # for all the zips of the import together, not each one
    try:
        found: list[Candidate] = []
        for index, source in enumerate(sources):
            origin = origins[index] if origins else str(source)
            if source.is_dir():
                files = [(path, str(path)) for path in _walk(source)]
            elif source.exists():
                files = [(source, origin)]
            else:
                raise BadInput(f"{source} does not exist.")
            for path, where in files:
                if _is_zip(path):
                    found += _from_zip(path, where, staging, budget)
                else:
                    found.append(Candidate(path, Path(where).name, where))
        if not found:
            raise BadInput("There is nothing to import: no files were found in what was given.")
        return found
    except BadInput:
        shutil.rmtree(staging, ignore_errors=True)
        raise
