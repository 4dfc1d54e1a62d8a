"""WebRTC ICE configuration for the live camera views, with short-lived TURN credentials.

Why the TURN REST scheme (as coturn's `use-auth-secret` implements it): the relay and the app share a
secret; for each browser session the app mints a username `<expiry>:<label>` and its password
base64(HMAC-SHA1(secret, username)). The relay accepts it until the expiry, and the browser never
sees the secret, so a leaked credential is worth minutes, not an account on the relay.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time

from core.config import Settings, get_settings


def turn_credentials(secret: str, ttl_s: int, now: float | None = None, label: str | None = None) -> tuple[str, str]:
    """(username, password) valid for `ttl_s` seconds from `now`."""
    expiry = int((time.time() if now is None else now) + ttl_s)
    username = f"{expiry}:{label or secrets.token_hex(4)}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def rtc_configuration(settings: Settings | None = None) -> dict:
    """The RTCConfiguration a camera view hands the browser: the operator's ICE servers
    (WEBTUBE_ICE_SERVERS), plus the relay with freshly minted credentials when WEBTUBE_TURN_URLS and
    WEBTUBE_TURN_SECRET are set, and the transport policy ("relay" sends media only through TURN).
    `iceServers` is always present, so streamlit-webrtc never fetches credentials on its own."""
    settings = settings or get_settings()
    servers = json.loads(settings.ice_servers)
    urls = [url.strip() for url in settings.turn_urls.split(",") if url.strip()]
    if urls and settings.turn_secret:
        username, password = turn_credentials(settings.turn_secret.get_secret_value(), settings.turn_ttl_s)
        servers.append({"urls": urls, "username": username, "credential": password})
    config: dict = {"iceServers": servers}
    if settings.ice_transport_policy != "all":
        config["iceTransportPolicy"] = settings.ice_transport_policy
    return config
