"""Whether a browser will give a page the camera: only in a secure context (HTTPS, or this machine itself).

Why decide on the server: a camera widget on a plain-HTTP page just stays dead, so the page instead
says why and offers what works (the password form, the HTTPS address).
"""

from __future__ import annotations

from urllib.parse import urlsplit

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def camera_refusal(page_url: str | None) -> str | None:
    """None when the browser may use the camera on `page_url`; else one sentence saying why it will not."""
    if not page_url:
        return None  # not known (tests, first run): let the browser decide
    parts = urlsplit(page_url)
    host = (parts.hostname or "").lower()
    if parts.scheme == "https" or host in LOCAL_HOSTS or host.endswith(".localhost"):
        return None
    secure = parts._replace(scheme="https", netloc=host).geturl()
    return (f"Browsers only let a page use the camera over HTTPS, and this page was opened over plain HTTP "
            f"at {host}: open {secure} to use the camera.")
