"""`python -m core users ...`: list accounts, promote or demote admins, lift a sign-in lock.

There is no admin screen: the first account is the admin, and this is how others are made admins.
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
        else:
            user = set_admin(args.email, args.command == "promote")
            print(f"{user.email} is {'now' if user.is_admin else 'no longer'} an admin.")
    except AccountError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    return 0
