"""`python -m core studio ...`: the face studio from the shell, JSON on stdout.

Bad input (a missing path, an empty import, a zip over the caps, an unknown account or id, an
unreadable sample) exits with status 2 and one line on stderr. Without `--owner` every command works
on the default library (`library@localhost`). `import` takes any path it is given (the page limits
admins to WEBTUBE_STUDIO_IMPORT_ROOTS; the shell already has the machine), or one Yandex.Disk public link or VK
album link (core/cloud; a VK link with `--token` or $WEBTUBE_VK_TOKEN), imported in this process as a job.
The other engineers' commands (`search`, `recognise`, `reindex`, `reembed`, `cluster`, `people`, `export`) are
parsed here and run by `<module>.cli_<name>(args)`, imported only when asked, so `import` never loads what it
does not use.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import warnings
from pathlib import Path

from core.accounts.users import AccountError
from core.faces.errors import FaceError
from core.studio.errors import BadInput, StudioError

_DELEGATED = {"search": "core.studio.search", "reindex": "core.studio.index", "cluster": "core.studio.clustering",
              "people": "core.studio.people", "export": "core.studio.export",
              "recognise": "core.studio.recognise_photo", "reembed": "core.studio.reembed"}


def _owner(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--owner", metavar="EMAIL", help="whose library (default: the default library)")
    return parser


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core studio", description="The face studio from the shell.")
    commands = parser.add_subparsers(dest="command", required=True)
    imp = _owner(commands.add_parser("import", help="import photos, zips or folders (walked recursively), or one "
                                                    "Yandex.Disk public link or VK album link"))
    imp.add_argument("paths", nargs="+", metavar="PATH")
    imp.add_argument("--album", help="album to import into (made when new; default: Imported, or the link's name)")
    imp.add_argument("--token", help="a VK access token with the photos permission (better: $WEBTUBE_VK_TOKEN, "
                                     "since other users of the machine can see a command's arguments)")
    _owner(commands.add_parser("albums", help="the library's albums"))
    photos = _owner(commands.add_parser("photos", help="the library's photos, one page"))
    photos.add_argument("--album-id", type=int)
    photos.add_argument("--status", choices=("processed", "no_faces", "failed"))
    photos.add_argument("--page", type=int, default=1)
    photos.add_argument("--page-size", type=int, default=48)
    _owner(commands.add_parser("delete-photo", help="delete a photo, its faces and its file")).add_argument(
        "photo_id", type=int)
    album = _owner(commands.add_parser("delete-album", help="delete an album"))
    album.add_argument("album_id", type=int)
    album.add_argument("--with-photos", action="store_true", help="also delete its photos that are in no other album")

    search = _owner(commands.add_parser("search", help="photos with faces like the sample's"))
    search.add_argument("image", type=Path)
    search.add_argument("--threshold", type=float, metavar="PERCENT")
    search.add_argument("--top", type=int, default=50, metavar="K")
    search.add_argument("--face", type=int, default=0,
                        help="which face of the sample: 1, 2 ... left to right (0: the largest)")
    recognise = _owner(commands.add_parser("recognise", help="who each face of a photo is, among your people"))
    recognise.add_argument("photo", type=Path)
    _owner(commands.add_parser("reindex", help="rebuild the search index from the database"))
    _owner(commands.add_parser("reembed", help="give faces of another face model the configured model's vectors"))
    _owner(commands.add_parser("cluster", help="group unnamed faces into clusters"))
    people = _owner(commands.add_parser("people", help="list, find, rename, correct, merge or delete people"))
    actions = people.add_subparsers(dest="action", required=True)
    listing = _owner(actions.add_parser("list", help="the people, found by name and sorted"))
    listing.add_argument("--search", metavar="TEXT", help="only names containing TEXT (any case, accents optional)")
    listing.add_argument("--sort", choices=("name", "faces", "recent"), default="name",
                         help="by name, most faces first, or most recently seen first")
    _owner(actions.add_parser("faces", help="a person's faces")).add_argument("person_id", type=int)
    rename = _owner(actions.add_parser("rename"))
    rename.add_argument("person_id", type=int)
    rename.add_argument("name")
    rename.add_argument("--notes")
    cover = _owner(actions.add_parser("set-cover", help="the face shown for a person: one of theirs"))
    cover.add_argument("person_id", type=int)
    cover.add_argument("face_id", type=int)
    move = _owner(actions.add_parser("move-face", help="move a person's faces to someone else or to a new person"))
    move.add_argument("person_id", type=int)
    move.add_argument("face_ids", type=int, nargs="+", metavar="face_id")
    target = move.add_mutually_exclusive_group(required=True)
    target.add_argument("--to", type=int, metavar="PERSON_ID")
    target.add_argument("--new-name", metavar="NAME")
    remove = _owner(actions.add_parser("remove-face", help="unname a person's faces (kept, never suggested for "
                                                           "them again), or delete them with --delete"))
    remove.add_argument("person_id", type=int)
    remove.add_argument("face_ids", type=int, nargs="+", metavar="face_id")
    remove.add_argument("--delete", action="store_true", help="delete the faces from the library (the photos stay)")
    merge = _owner(actions.add_parser("merge", help="merge SOURCE people into TARGET"))
    merge.add_argument("target_id", type=int)
    merge.add_argument("source_ids", type=int, nargs="+")
    _owner(actions.add_parser("delete", help="delete a person and their faces (the photos stay)")).add_argument(
        "person_id", type=int)
    export = _owner(commands.add_parser("export", help="faces as CSV or JSON"))
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    export.add_argument("--embeddings", action="store_true", help="also write the embeddings next to it")
    export.add_argument("--embeddings-format", choices=("npy", "parquet"), default="npy")
    export.add_argument("--output", metavar="PATH")
    return parser


def _import(args: argparse.Namespace) -> dict:
    from core.cloud import links
    from core.studio.owners import resolve_owner

    owner_id = resolve_owner(args.owner)
    if any(links.looks_like_link(path) for path in args.paths):
        from core.cloud.importer import run_cloud_import_now

        if len(args.paths) > 1:
            raise BadInput("Import one link at a time, without paths beside it.")
        token = args.token or os.environ.get("WEBTUBE_VK_TOKEN")
        album = " ".join((args.album or links.open_link(args.paths[0], token).default_album).split())
        summary = run_cloud_import_now(owner_id, args.paths[0], album, token)
    else:
        from core.studio.importer import import_paths

        album = " ".join((args.album or "Imported").split())
        summary = import_paths(owner_id, [Path(path) for path in args.paths], album, "folder")
    return {
        "album": album, "photos": summary.photos, "faces": summary.faces,
        "no_face_photos": summary.no_face_photos, "failures": summary.failures, "duplicates": summary.duplicates,
        "seconds": summary.seconds, "job_id": summary.job_id,
        "failed": [{"file": item.original_name, "origin": item.origin, "error": item.message}
                   for item in summary.failed],
    }


def _library(args: argparse.Namespace) -> object:
    from dataclasses import asdict

    from core.studio import library
    from core.studio.owners import resolve_owner

    owner_id = resolve_owner(args.owner)
    if args.command == "albums":
        return [asdict(album) for album in library.list_albums(owner_id)]
    if args.command == "photos":
        page = library.list_photos(owner_id, args.album_id, args.status, args.page, args.page_size)
        return {"page": page.page, "pages": page.pages, "total": page.total,
                "photos": [asdict(photo) for photo in page.items]}
    if args.command == "delete-photo":
        library.delete_photo(owner_id, args.photo_id)
        return {"deleted_photo": args.photo_id}
    library.delete_album(owner_id, args.album_id, delete_photos=args.with_photos)
    return {"deleted_album": args.album_id, "with_photos": args.with_photos}


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    warnings.filterwarnings("ignore", module="PIL")
    try:
        if args.command == "import":
            result: object = _import(args)
        elif args.command in _DELEGATED:
            module = importlib.import_module(_DELEGATED[args.command])
            result = getattr(module, f"cli_{args.command}")(args)
        else:
            result = _library(args)
    except (StudioError, FaceError, AccountError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2, default=str))
    return 0
