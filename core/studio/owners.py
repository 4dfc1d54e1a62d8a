"""Whose library: an account by email, or the default library the command line uses without `--owner`.

The default library is an ordinary account, `library@localhost`, made on first use with a password
nobody knows (the bcrypt hash of a random secret that is thrown away), so it can never sign in and
the ownership rules need no special case.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.accounts.users import InvalidEmail, hash_password, normalize_email
from core.storage.database import session_scope
from core.storage.models import User, utcnow
from core.studio.errors import BadInput, NotFound

DEFAULT_LIBRARY_EMAIL = "library@localhost"


def _default_library() -> int:
    with session_scope() as session:
        found = session.scalar(select(User.id).where(User.email == DEFAULT_LIBRARY_EMAIL))
    if found is not None:
        return found
    unusable = hash_password(secrets.token_urlsafe(32))
    try:
        with session_scope() as session:
            user = User(email=DEFAULT_LIBRARY_EMAIL, password_hash=unusable, display_name="Default library",
                        is_admin=False, created_at=utcnow())
            session.add(user)
            session.flush()
            return user.id
    except IntegrityError:  # another process made it first
        with session_scope() as session:
            return session.scalars(select(User.id).where(User.email == DEFAULT_LIBRARY_EMAIL)).one()


def resolve_owner(email: str | None) -> int:
    """The account id owning the library: `email`'s account, or the default library when None."""
    if email is None:
        return _default_library()
    address = email.strip().lower()
    if address != DEFAULT_LIBRARY_EMAIL:
        try:
            address = normalize_email(email)
        except InvalidEmail as exc:
            raise BadInput(str(exc)) from exc
    with session_scope() as session:
        found = session.scalar(select(User.id).where(User.email == address))
    if found is None:
        raise NotFound(f"No account with the email {address}.")
    return found
