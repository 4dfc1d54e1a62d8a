"""The session cookie in the browser: read with `st.context.cookies`, written by a few lines of JavaScript.

Why this way: Streamlit 1.67 can read cookies (`st.context.cookies`, the ones sent when the tab
connected) but has no call that sets one from a script run. Its own `st.components.v2` runs inline
JavaScript in the app's page itself (no iframe, nothing fetched from a CDN, so it works offline), and
that JavaScript writes `document.cookie`. The third-party cookie components (extra-streamlit-components'
CookieManager, streamlit-cookies-controller) are older iframe components that do the same from inside
an iframe, with an extra round trip and a rerun, so they bring a dependency and no gain.

The price of any script-written cookie: it cannot be HttpOnly (only an HTTP response can set that,
and a script run has none; an `st.App` route that trades a one-time code for a Set-Cookie would be
the way to get it). Mitigations: the app never renders user
text as HTML (pages/ui/components.py), the token alone is worthless once signed out, and the database
keeps only its hash. Attributes: Path=/, SameSite=Lax, Max-Age of WEBTUBE_SESSION_DAYS (renewed on
every run, as the server-side expiry slides), and Secure whenever the page is served over HTTPS.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

import streamlit as st

COOKIE_NAME = "webtube_session"

_JS = """
export default function ({ data }) {
  const name = data.name;
  const current = document.cookie.split("; ").find((c) => c.startsWith(name + "="))?.slice(name.length + 1);
  const secure = data.secure || window.location.protocol === "https:";
  const flags = "; Path=/; SameSite=Lax" + (secure ? "; Secure" : "");
  if (data.value !== null) {
    document.cookie = name + "=" + data.value + "; Max-Age=" + data.maxAge + flags;
  } else if (current === data.stale) {
    document.cookie = name + "=; Max-Age=0" + flags;
  }
}
"""
_writer = st.components.v2.component("webtube_session_cookie", js=_JS)


def served_over_https(url: str | None, headers: Mapping[str, str]) -> bool:
    """True when the browser reached us over HTTPS: its URL says so, or a TLS proxy's X-Forwarded-Proto does."""
    forwarded = (headers.get("X-Forwarded-Proto") or "").split(",")[0].strip().lower()
    return forwarded == "https" or urlsplit(url or "").scheme.lower() == "https"


def cookie_token() -> str | None:
    """The token the browser sent when this tab connected (later writes show after a reload); AppTest has none."""
    value = st.context.cookies.get(COOKIE_NAME)
    return value if isinstance(value, str) and value else None


def _write(value: str | None, stale: str | None, max_age_s: int) -> None:
    secure = served_over_https(st.context.url, st.context.headers)
    data = {"name": COOKIE_NAME, "value": value, "stale": stale, "maxAge": max_age_s, "secure": secure}
    _writer(data=data, width="content", height=0)


def keep_cookie(token: str, max_age_s: int) -> None:
    """Make the browser hold `token` for `max_age_s` more seconds (idempotent, so every run may call it)."""
    _write(token, None, max_age_s)


def drop_cookie(stale: str) -> None:
    """Remove the cookie if it still holds `stale`, so a newer sign-in in another tab is left alone."""
    _write(None, stale, 0)
