"""Video links: refuse what the server must not fetch, and recognise YouTube links offline.

`check_url` guards every URL before WebTube's server fetches it. Someone can paste a link to
a private address (a router, the cloud metadata service at 169.254.169.254, a database on
localhost) and have WebTube fetch it for them; so only http(s) links whose host resolves to
public addresses are accepted, unless `WEBTUBE_ALLOW_PRIVATE_URLS` is on. IP literals in the
old numeric forms (http://2130706433/, http://0x7f.1/) are read the way resolvers read them.

`parse_youtube` needs no network: every common YouTube link shape maps to one video id, so
the same video shared twice is recognised as one.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Collection
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit, urlunsplit

from core.config import get_settings

MAX_URL_LENGTH = 2048
_SCHEMES = {"http": 80, "https": 443}
_HAS_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:(?!\d)")
_HOST_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_IPV4_PART = re.compile(r"0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UrlError(ValueError):
    """A link WebTube will not fetch; `str(err)` is written for the person who pasted it."""


class InvalidUrl(UrlError):
    """Not a web link at all: empty, malformed, too long, or not http(s)."""


class UnsafeUrl(UrlError):
    """A web link to somewhere the server must not go: a private address, or credentials inside."""


class UnresolvableHost(UrlError):
    """The site's name does not resolve: a typo, or this machine is offline."""


def normalise_url(url: str) -> str:
    """The canonical spelling of a web link, checked for shape only (no network).

    Strips whitespace, adds https:// to a bare `example.com/...`, lower-cases scheme and host,
    IDNA-encodes the host, rewrites numeric IPv4 forms as dotted quads and drops default ports.
    """
    text = url.strip()
    if not text:
        raise InvalidUrl("Please paste a link to a video.")
    if len(text) > MAX_URL_LENGTH:
        raise InvalidUrl(f"That link is too long (more than {MAX_URL_LENGTH} characters).")
    if any(ch.isspace() or ch == "\\" or not ch.isprintable() for ch in text):
        raise InvalidUrl("That link contains spaces or characters that web links cannot have.")
    try:
        parts = urlsplit(_with_scheme(text))
        port = parts.port
    except ValueError as exc:
        raise InvalidUrl("That link is not a valid web address.") from exc
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        raise InvalidUrl(f"Only web links (http:// or https://) can be shared, not {scheme}: links.")
    if "@" in parts.netloc:
        raise UnsafeUrl("Links with a user name or password inside are refused; share the plain link.")
    host = _normalise_host(parts.hostname or "")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _SCHEMES[scheme]:
        netloc += f":{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, parts.fragment))


def check_url(url: str, allow_private: bool | None = None, *, allowed_hosts: Collection[str] = ()) -> str:
    """Normalise `url` and make sure its host is a public address; return the normalised link.

    The host name is resolved and every address it resolves to must be public, so a name
    pointing at 10.0.0.1 is refused like the literal. `allow_private=None` reads the
    WEBTUBE_ALLOW_PRIVATE_URLS setting. `allowed_hosts` exempts named hosts from the address
    check (an operator's own media host; tests use it for the local media server).
    """
    normalised = normalise_url(url)
    parts = urlsplit(normalised)
    checked_addresses(parts.hostname or "", parts.port or _SCHEMES[parts.scheme], allow_private, allowed_hosts)
    return normalised


def checked_addresses(
    host: str, port: int, allow_private: bool | None = None, allowed_hosts: Collection[str] = ()
) -> list[IPAddress]:
    """Resolve `host` once and return its addresses, all of them public unless exempt (as in `check_url`).

    The downloader connects to exactly these addresses, never resolving the name again, so a DNS
    answer that changes between the check and the connection (DNS rebinding) cannot redirect it.
    """
    host = _normalise_host(host)
    if allow_private is None:
        allow_private = get_settings().allow_private_urls
    exempt = allow_private or host in {_normalise_host(name) for name in allowed_hosts}
    literal = _ip_literal(host)
    addresses = [literal] if literal is not None else _resolve(host, port)
    if not exempt:
        for address in addresses:
            if not is_public_address(address):
                raise UnsafeUrl(
                    f"{host} is a private or local network address ({address}); "
                    "WebTube only fetches videos from public sites."
                )
    return addresses


def safe_for_viewers(url: str | None, allow_private: bool | None = None) -> str | None:
    """`url` normalised when viewers' browsers may be pointed at it (public, or private ones allowed), else None.

    A page can name its video file on a private address (a router's reboot URL); a player built
    from that would make every viewer's browser call it. A name that does not resolve is refused too.
    """
    if not url:
        return None
    try:
        return check_url(url, allow_private)
    except UrlError:
        return None


def is_public_address(address: IPAddress) -> bool:
    """True for addresses on the public internet; IPv4 carried inside IPv6 is judged as IPv4."""
    address = _embedded_ipv4(address) or address
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or getattr(address, "is_site_local", False)
    )


def _with_scheme(text: str) -> str:
    """People paste `youtube.com/watch?v=…`; read a link without a scheme as https.

    `host:8080/…` is a host and a port, not a scheme, so a colon before a digit does not count.
    """
    if _HAS_SCHEME.match(text):
        return text
    return "https:" + text if text.startswith("//") else "https://" + text


def _normalise_host(host: str) -> str:
    """Lower-case, IDNA-encoded host; IP literals in their standard spelling."""
    host = host.lower().removesuffix(".")
    if not host:
        raise InvalidUrl("That link has no site name in it.")
    literal = _ip_literal(host)
    if literal is not None:
        return str(literal)
    try:
        encoded = host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise InvalidUrl(f"{host!r} is not a valid site name.") from exc
    if len(encoded) > 253 or not all(_HOST_LABEL.fullmatch(label) for label in encoded.split(".")):
        raise InvalidUrl(f"{host!r} is not a valid site name.")
    return encoded


def _ip_literal(host: str) -> IPAddress | None:
    """The address a host spells directly, in any form a resolver accepts, or None for a name."""
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host)
        except ValueError as exc:
            raise InvalidUrl(f"{host!r} is not a valid IPv6 address.") from exc
    return _numeric_ipv4(host)


def _numeric_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """inet_aton's reading of `host`: 1 to 4 parts, each decimal, 0x-hex or 0-octal; None if not numeric."""
    parts = host.split(".")
    if len(parts) > 4 or not all(_IPV4_PART.fullmatch(part) for part in parts):
        return None
    values = [_ipv4_part(part) for part in parts]
    *leading, last = values
    if any(value > 255 for value in leading) or last >= 256 ** (5 - len(values)):
        raise InvalidUrl(f"{host!r} is not a valid IP address.")
    number = last
    for index, value in enumerate(leading):
        number += value << (8 * (3 - index))
    return ipaddress.IPv4Address(number)


def _ipv4_part(part: str) -> int:
    if part[:2].lower() == "0x":
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part[0] == "0":
        return int(part, 8)
    return int(part)


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, Teredo, NAT64), which is where packets go."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address.sixtofour:
        return address.sixtofour
    if address.teredo:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnresolvableHost(
            f"Cannot reach {host}: the site's name does not resolve. "
            "Check the link; if it is right, this computer may be offline."
        ) from exc
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


_YOUTUBE_HOSTS = frozenset(
    {
        "youtube.com",
        "www.youtube.com",
        "m.youtube.com",
        "music.youtube.com",
        "youtube-nocookie.com",
        "www.youtube-nocookie.com",
    }
)
_YOUTU_BE_HOSTS = frozenset({"youtu.be", "www.youtu.be"})
_ID_PATHS = frozenset({"shorts", "embed", "v", "live", "e"})
_VIDEO_ID = re.compile(r"[A-Za-z0-9_-]{11}")
_TIMESTAMP = re.compile(r"(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s?)?")


@dataclass(frozen=True)
class YouTubeRef:
    """One YouTube video, and where to start it; every URL WebTube shows is built from this."""

    video_id: str
    start_seconds: int | None = None

    def __post_init__(self) -> None:
        """The id goes into URLs and HTML, so only a well-formed one is accepted."""
        if not _VIDEO_ID.fullmatch(self.video_id):
            raise InvalidUrl(f"{self.video_id!r} is not a YouTube video id.")
        if self.start_seconds is not None and self.start_seconds <= 0:
            raise InvalidUrl("A start time must be a positive number of seconds.")

    @property
    def canonical_url(self) -> str:
        return f"https://www.youtube.com/watch?v={self.video_id}"

    @property
    def watch_url(self) -> str:
        suffix = f"&t={self.start_seconds}s" if self.start_seconds else ""
        return self.canonical_url + suffix

    @property
    def embed_url(self) -> str:
        """The privacy-enhanced player, which sets no cookies until the video is played."""
        suffix = f"?start={self.start_seconds}" if self.start_seconds else ""
        return f"https://www.youtube-nocookie.com/embed/{self.video_id}{suffix}"

    @property
    def thumbnail_url(self) -> str:
        return f"https://i.ytimg.com/vi/{self.video_id}/hqdefault.jpg"


def parse_youtube(url: str) -> YouTubeRef | None:
    """The YouTube video a link points to, or None when it is not a link to one YouTube video."""
    try:
        parts = urlsplit(_with_scheme(url.strip()))
        host = (parts.hostname or "").rstrip(".")
    except ValueError:
        return None
    if parts.scheme.lower() not in _SCHEMES:
        return None
    segments = [segment for segment in parts.path.split("/") if segment]
    query = parse_qs(parts.query)
    if host in _YOUTU_BE_HOSTS and len(segments) == 1:
        video_id = segments[0]
    elif host in _YOUTUBE_HOSTS and segments == ["watch"]:
        video_id = query.get("v", [""])[0]
    elif host in _YOUTUBE_HOSTS and len(segments) == 2 and segments[0] in _ID_PATHS:
        video_id = segments[1]
    else:
        return None
    if not _VIDEO_ID.fullmatch(video_id):
        return None
    fragment = parse_qs(parts.fragment)
    start = (query.get("t") or query.get("start") or fragment.get("t") or [""])[0]
    return YouTubeRef(video_id, _seconds(start))


def _seconds(value: str) -> int | None:
    """`90`, `90s`, `1m30s`, `1h2m3s` → seconds; None when absent, zero or unreadable."""
    match = _TIMESTAMP.fullmatch(value)
    if not value or not match:
        return None
    hours, minutes, seconds = (int(match[name] or 0) for name in ("h", "m", "s"))
    total = hours * 3600 + minutes * 60 + seconds
    return total or None
