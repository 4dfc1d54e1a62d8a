"""Settings read from environment variables, with defaults that work offline on a laptop.

Every setting lives here so the README's configuration table has one source. `get_settings()`
is cached; tests that change the environment call `get_settings.cache_clear()`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(ValueError):
    """An environment variable holds a value the app cannot use."""


def _env_str(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from exc


def _env_float(name: str, default: float | None) -> float | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from exc


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


@dataclass(frozen=True)
class Settings:
    """Everything configurable, resolved once per process."""

    data_dir: Path
    weights_dir: Path
    database_url: str
    max_image_pixels: int
    max_upload_mb: int
    detect_max_side: int
    min_face_px: int
    embedder: str
    device: str
    verify_threshold: float | None
    signin_threshold: float | None
    signin_margin: float
    signin_window: int
    signin_votes: int
    liveness: bool
    liveness_timeout_s: float
    allow_private_urls: bool
    download_max_mb: int
    login_max_failures: int
    login_window_min: int
    bcrypt_rounds: int
    ice_servers: str  # JSON list of RTCIceServer objects, validated; see `rtc_configuration`

    @property
    def rtc_configuration(self) -> dict:
        """WebRTC configuration for the live camera views; `iceServers` is always set (even empty),
        so streamlit-webrtc never fetches TURN credentials over the network on its own."""
        return {"iceServers": json.loads(self.ice_servers)}


def _env_ice_servers(name: str) -> str:
    """A JSON list of ICE servers, each an object with `urls` (and `username`/`credential` for TURN)."""
    raw = _env_str(name, "[]")
    try:
        servers = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{name} must be a JSON list of ICE servers: {exc}") from exc
    if not isinstance(servers, list) or not all(isinstance(s, dict) and s.get("urls") for s in servers):
        raise ConfigError(f'{name} must be a JSON list like [{{"urls": "stun:stun.example.org:3478"}}]')
    return json.dumps(servers)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Read the environment once; see README.md for the meaning of each variable."""
    data_dir = Path(_env_str("WEBTUBE_DATA_DIR", str(PROJECT_ROOT / "db"))).expanduser()
    weights_dir = Path(_env_str("WEBTUBE_WEIGHTS_DIR", str(PROJECT_ROOT / "weights"))).expanduser()
    embedder = _env_str("WEBTUBE_EMBEDDER", "dlib").lower()
    if embedder not in {"dlib", "facenet"}:
        raise ConfigError(f"WEBTUBE_EMBEDDER must be dlib or facenet, not {embedder!r}")
    device = _env_str("WEBTUBE_DEVICE", "auto").lower()
    if device not in {"auto", "cpu", "cuda"}:
        raise ConfigError(f"WEBTUBE_DEVICE must be auto, cpu or cuda, not {device!r}")
    return Settings(
        data_dir=data_dir,
        weights_dir=weights_dir,
        database_url=_env_str("DATABASE_URL", f"sqlite:///{data_dir / 'webtube.sqlite3'}"),
        max_image_pixels=_env_int("WEBTUBE_MAX_IMAGE_PIXELS", 50_000_000),
        max_upload_mb=_env_int("WEBTUBE_MAX_UPLOAD_MB", 25),
        detect_max_side=_env_int("WEBTUBE_DETECT_MAX_SIDE", 1280),
        min_face_px=_env_int("WEBTUBE_MIN_FACE_PX", 40),
        embedder=embedder,
        device=device,
        verify_threshold=_env_float("WEBTUBE_VERIFY_THRESHOLD", None),
        signin_threshold=_env_float("WEBTUBE_SIGNIN_THRESHOLD", None),
        signin_margin=float(_env_float("WEBTUBE_SIGNIN_MARGIN", 0.08) or 0.0),
        signin_window=_env_int("WEBTUBE_SIGNIN_WINDOW", 8),
        signin_votes=_env_int("WEBTUBE_SIGNIN_VOTES", 5),
        liveness=_env_bool("WEBTUBE_LIVENESS", True),
        liveness_timeout_s=float(_env_float("WEBTUBE_LIVENESS_TIMEOUT_S", 8.0) or 8.0),
        allow_private_urls=_env_bool("WEBTUBE_ALLOW_PRIVATE_URLS", False),
        download_max_mb=_env_int("WEBTUBE_DOWNLOAD_MAX_MB", 500),
        login_max_failures=_env_int("WEBTUBE_LOGIN_MAX_FAILURES", 5),
        login_window_min=_env_int("WEBTUBE_LOGIN_WINDOW_MIN", 15),
        bcrypt_rounds=min(max(_env_int("WEBTUBE_BCRYPT_ROUNDS", 12), 4), 16),
        ice_servers=_env_ice_servers("WEBTUBE_ICE_SERVERS"),
    )
