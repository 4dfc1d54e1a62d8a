"""A provider token sealed for the one job that needs it: never stored in plain text, dropped when the job ends.

Why Fernet (the `cryptography` package): authenticated encryption with a versioned, timestamped format, so a
token is unreadable and unalterable in the jobs table. Its key is derived (HKDF-SHA256, under this feature's
own label) from the data dir's random installation secret, so every app server and worker sharing the data
dir can open what another sealed, and no setting has to be added.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core.cloud.errors import CloudError
from core.videos.file_links import installation_secret

_LABEL = b"webtube cloud import token"


def _box() -> Fernet:
    key = HKDF(algorithm=SHA256(), length=32, salt=None, info=_LABEL).derive(installation_secret())
    return Fernet(base64.urlsafe_b64encode(key))


def seal(token: str) -> str:
    """The token encrypted, as text for a job's JSON parameters."""
    return _box().encrypt(token.encode()).decode("ascii")


def unseal(sealed: str) -> str:
    """The token back; a sealed value this installation did not make reads as a token to give again."""
    try:
        return _box().decrypt(sealed.encode("ascii")).decode()
    except (InvalidToken, ValueError) as exc:
        raise CloudError("bad_token", "The saved access token can no longer be read; start the import again "
                                      "with the token.") from exc
