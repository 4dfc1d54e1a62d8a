"""`python -m core users ...`: list accounts, promote or demote admins, lift a sign-in lock, clear face data.

The first account is the admin; the Admin page (pages/admin.py) does the same from the browser, and
this is the operator's way in from the shell.
`clear-face` frees a face that another account enrolled first, so its owner can enrol it.
"""

from __future__ import annotations

import argparse
import sys

from core.accounts.users import AccountError, list_users, set_admin, unlock


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core users", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="every account: id, email, name, admin flag, created")
    for name, text in (
        ("promote", "make an account an admin"),
        ("demote", "take admin rights away"),
        ("unlock", "forget failed sign-ins, lifting a lock"),
        ("clear-face", "delete an account's face samples (when it enrolled someone else's face)"),
    ):
        commands.add_parser(name, help=text).add_argument("email")
    return parser


def main(argv: list[str]) -> int:
    """Run one command; 0 on success, 1 when the account is unknown or the email invalid."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "list":
            for user in list_users():
                admin = "admin" if user.is_admin else "-"
                print(f"{user.id}\t{user.email}\t{user.display_name}\t{admin}\t{user.created_at:%Y-%m-%d %H:%M}Z")
        elif args.command == "unlock":
            print(f"Cleared {unlock(args.email)} failed sign-in(s) for {args.email.strip().lower()}.")
        elif args.command == "clear-face":
            from core.face_signin.enrolment import clear_face_data  # loads the face engine: only when asked

            print(f"Deleted {clear_face_data(args.email)} face sample(s) of {args.email.strip().lower()}.")
        else:
            user = set_admin(args.email, args.command == "promote")
            print(f"{user.email} is {'now' if user.is_admin else 'no longer'} an admin.")
    except AccountError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    return 0
