"""Settings read from environment variables (or a `.env` file), with defaults that work offline on a laptop.

Every setting lives here so the README's configuration table has one source. Why
pydantic-settings: each setting is one typed line with its bounds, parsing and validation
come from a maintained library, and a bad value is refused at start-up naming its variable.
`get_settings()` is cached; tests that change the environment call `get_settings.cache_clear()`.
"""

from __future__ import annotations

import json
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "WEBTUBE_"


class ConfigError(ValueError):
    """An environment variable holds a value the app cannot use."""


# Streamlit's secrets file (Community Cloud's settings box writes it): its top-level keys are read like
# environment variables (WEBTUBE_EMBEDDER = "sface", DATABASE_URL = "postgresql+psycopg://..."), below the
# real environment. Read here with tomllib, so core never imports Streamlit.
SECRETS_FILES = (PROJECT_ROOT / ".streamlit" / "secrets.toml", Path.home() / ".streamlit" / "secrets.toml")


class StreamlitSecrets(PydanticBaseSettingsSource):
    """Settings from the first `.streamlit/secrets.toml` found (project, then home), by variable name."""

    def _values(self) -> dict[str, object]:
        for path in SECRETS_FILES:
            if path.is_file():
                with path.open("rb") as file:
                    return {key.upper(): value for key, value in tomllib.load(file).items()
                            if not isinstance(value, dict)}  # sections belong to the app's other secrets
        return {}

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[object, str, bool]:
        return self._values().get(_variable(field_name)), field_name, False

    def __call__(self) -> dict[str, object]:
        found = self._values()
        fields = self.settings_cls.model_fields
        # A field with an alias (DATABASE_URL) is validated under that alias, the others under their names.
        return {(_variable(name) if field.validation_alias else name): found[_variable(name)]
                for name, field in fields.items() if _variable(name) in found}


class Settings(BaseSettings):
    """Everything configurable, resolved once per process (frozen, so it can key caches)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=PROJECT_ROOT / ".env",
        env_ignore_empty=True,
        extra="ignore",
        frozen=True,
    )

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        """The environment first, then Streamlit's secrets file, then `.env`."""
        return init_settings, env_settings, StreamlitSecrets(settings_cls), dotenv_settings, file_secret_settings

    data_dir: Path = PROJECT_ROOT / "db"
    weights_dir: Path = PROJECT_ROOT / "weights"
    database_url: str = Field("", validation_alias=AliasChoices("DATABASE_URL"))
    max_image_pixels: int = Field(50_000_000, gt=0)
    max_upload_mb: int = Field(25, gt=0)
    face_max_pixels: int = Field(12_000_000, gt=0)  # image intake: per-use pixel caps, decoded-byte cap, decode slots
    avatar_max_pixels: int = Field(16_000_000, gt=0)
    max_decoded_mb: int = Field(64, gt=0)
    heavy_decodes: int = Field(2, gt=0)
    decode_wait_s: float = Field(30.0, gt=0)
    detect_max_side: int = Field(1280, ge=160)
    min_face_px: int = Field(40, ge=12)
    embedder: Literal["dlib", "facenet", "sface"] = "dlib"
    detector: Literal["mtcnn", "yunet"] = "mtcnn"
    device: Literal["auto", "cpu", "cuda"] = "auto"
    verify_threshold: float | None = Field(None, gt=0)
    signin_threshold: float | None = Field(None, gt=0)
    signin_margin: float | None = Field(None, ge=0)  # None: the embedder's calibrated margin
    signin_window: int = Field(8, gt=0)
    signin_votes: int = Field(5, gt=0)
    liveness: bool = True
    liveness_timeout_s: float = Field(8.0, gt=0)
    liveness_moves: int = Field(3, ge=2, le=6)
    liveness_max_yaw_speed: float = Field(2.5, gt=0)
    liveness_max_landmark_speed: float = Field(2.0, gt=0)
    liveness_min_box_overlap: float = Field(0.2, ge=0, lt=1)
    liveness_max_gap_s: float = Field(1.0, gt=0)
    allow_private_urls: bool = False
    download_max_mb: int = Field(500, ge=0)
    download_timeout_s: float = Field(1800, gt=0)  # overall time limit of one fetch (probe or download)
    download_min_kbps: float = Field(20, ge=0)  # slower than this, averaged over 20 s of waiting, is cut off
    download_cache_mb: int = Field(5000, ge=0)  # download cache quota; least recently used files go first
    download_link_ttl_s: int = Field(900, gt=0)  # how long a "Save" link works
    login_max_failures: int = Field(5, gt=0)
    login_window_min: int = Field(15, gt=0)
    session_days: int = Field(30, gt=0)  # a sign-in lasts this long after its last use
    bcrypt_rounds: int = 12
    ice_servers: str = "[]"  # JSON list of RTCIceServer objects, validated; see core/hosting/ice.py
    turn_urls: str = ""  # comma-separated turn:/turns: URLs of a relay using the TURN REST secret scheme
    turn_secret: SecretStr | None = None  # the secret shared with the relay (coturn's static-auth-secret)
    turn_ttl_s: int = Field(600, ge=60, le=86_400)  # how long a minted relay credential works
    ice_transport_policy: Literal["all", "relay"] = "all"  # "relay": media only through the TURN relay
    face_index: Literal["memory", "milvus"] = "memory"  # studio search index: in process, or Milvus
    milvus_uri: str = ""  # a file path = Milvus Lite (one process); http(s)://host:19530 = a server; "" = data dir
    milvus_index: Literal["HNSW", "IVF_PQ", "FLAT"] = "HNSW"  # index type; Lite: HNSW or FLAT, no IVF_PQ
    milvus_hnsw_m: int = Field(32, ge=4, le=64)  # HNSW: links per node (16 missed recall 0.99 at 1,000,000)
    milvus_hnsw_ef_construction: int = Field(200, ge=8)  # HNSW: build breadth
    milvus_hnsw_ef: int = Field(512, ge=1)  # HNSW: search breadth (at least top-K; 256: real faces 0.90 at 1M)
    milvus_ivf_nlist: int = Field(1024, ge=1)  # IVF_PQ: clusters
    milvus_ivf_nprobe: int = Field(32, ge=1)  # IVF_PQ: clusters searched
    milvus_pq_m: int = Field(16, ge=1)  # IVF_PQ: sub-vectors (must divide the embedding size)
    milvus_pq_nbits: int = Field(8, ge=1, le=16)  # IVF_PQ: bits per sub-vector code
    milvus_pq_refine: int = Field(10, ge=1, le=100)  # IVF_PQ: top-K x this candidates, re-ranked on exact vectors
    milvus_timeout_s: float = Field(10.0, gt=0)  # one Milvus call gives up after this long (server down)
    milvus_retry_s: float = Field(10.0, ge=0)  # after a failed call, calls fail at once for this long
    studio_match_percent: float | None = Field(None, ge=0, le=100)  # search threshold; None = calibrated default
    recognition_margin: float = Field(5.0, ge=0, le=100)  # recognition: % points the best must lead the runner-up
    studio_cluster_distance: float | None = Field(None, gt=0)  # clustering link distance; None = sign-in threshold
    studio_cluster_neighbours: int = Field(20, ge=1, le=200)  # kNN graph: neighbours kept per face
    studio_cluster_min_size: int = Field(2, ge=2)  # smaller groups stay unclustered
    studio_import_roots: str = ""  # folders (os.pathsep-separated) admins may import from in the studio page
    zip_max_mb: int = Field(2000, gt=0)  # a zip may hold at most this much once unpacked (a zip bomb is refused)
    zip_max_files: int = Field(5000, gt=0)  # and at most this many members
    import_workers: int = Field(2, ge=1, le=16)  # photos analysed at once by one import
    yandex_disk_api: str = "https://cloud-api.yandex.net/v1/disk"  # Yandex.Disk's REST API (public links need no token)
    vk_api: str = "https://api.vk.com/method"  # VK's API methods (photos.get, photos.getAlbums)
    cloud_allowed_hosts: str = ""  # comma-separated host names cloud imports may reach on private addresses (a mirror)
    cloud_max_photos: int = Field(5000, gt=0)  # a cloud link may list at most this many photos
    embed_batch: int | None = Field(None, ge=1, le=4096)  # faces per forward pass of an import; None: by device
    metrics_port: int = Field(0, ge=0, le=65535)  # Prometheus /metrics of this process (app or worker); 0 = off
    metrics_addr: str = "127.0.0.1"  # the address /metrics listens on; 0.0.0.0 exposes it to the network
    monitor_interval_s: float = Field(5.0, ge=0.5, le=3600)  # the System page's samples: one every this many seconds
    monitor_samples: int = Field(720, ge=2, le=100_000)  # and this many kept per process (720 x 5 s = 1 hour)
    log_level: Literal["debug", "info", "warning", "error"] = "info"  # structured log lines at or above this level
    log_max_mb: float = Field(10.0, gt=0)  # a log file under <data dir>/logs is rotated at this size
    log_backups: int = Field(5, ge=1, le=100)  # rotated log files kept
    video_sample_fps: float = Field(5.0, gt=0, le=30)  # video analysis: frames analysed per second of video
    video_max_mb: int = Field(500, gt=0)  # a video to analyse may be at most this big
    video_max_seconds: int = Field(3600, gt=0)  # and at most this long (probed before decoding)
    job_threads: int = Field(1, ge=0, le=8)  # jobs the app process runs at once; 0: only `python -m core worker`
    broker_url: str = ""  # redis://host:6379/0 or amqp://user:pass@host:5672/: jobs go to `python -m core worker`s
    broker_redeliver_s: float = Field(60.0, ge=1, le=3600)  # a job's delivery unanswered this long is given again
    smtp_host: str = ""  # mail server for "Forgot password" links; "" = no email (an admin issues reset links)
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_user: str = ""  # "" = no login
    smtp_password: SecretStr | None = None
    smtp_from: str = ""  # the From address of reset emails ("" = smtp_user)
    smtp_starttls: bool = True  # upgrade the connection with STARTTLS before logging in
    public_url: str = ""  # the site's address as people reach it (https://tube.example.org), for links in emails
    reset_link_minutes: int = Field(60, ge=5, le=1440)  # how long a password-reset link works
    api_host: str = "127.0.0.1"  # `python -m core api` listens here (0.0.0.0 to serve other machines)
    api_port: int = Field(8600, ge=1, le=65535)
    api_rate_per_minute: int = Field(600, ge=1)  # requests a minute per API key (a burst of that many, then 429)
    api_max_body_mb: int = Field(500, gt=0)  # one request's body at most (a zip of photos, a video); over it: 413

    @field_validator("embedder", "detector", "device", "log_level", mode="before")
    @classmethod
    def _lower_case(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("data_dir", "weights_dir")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("bcrypt_rounds")
    @classmethod
    def _bcrypt_bounds(cls, value: int) -> int:
        """bcrypt accepts 4 to 31; above 16 a sign-in takes minutes, so clamp to 4..16."""
        return min(max(value, 4), 16)

    @field_validator("ice_servers")
    @classmethod
    def _ice_server_list(cls, value: str) -> str:
        """A JSON list of ICE servers, each an object with `urls` (and `username`/`credential` for TURN)."""
        try:
            servers = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"must be a JSON list of ICE servers: {exc}") from exc
        if not isinstance(servers, list) or not all(isinstance(s, dict) and s.get("urls") for s in servers):
            raise ValueError('must be a JSON list like [{"urls": "stun:stun.example.org:3478"}]')
        return json.dumps(servers)

    @field_validator("broker_url")
    @classmethod
    def _broker_scheme(cls, value: str) -> str:
        """Redis (Streams) or RabbitMQ, the two brokers core/jobs/broker_link.py speaks."""
        value = value.strip()
        if value and not value.startswith(("redis://", "rediss://", "amqp://", "amqps://")):
            raise ValueError("must start with redis://, rediss://, amqp:// or amqps://")
        return value

    @field_validator("yandex_disk_api", "vk_api")
    @classmethod
    def _api_base(cls, value: str) -> str:
        """An http(s) base address without a trailing slash, so calls are `base + "/method"`."""
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("public_url")
    @classmethod
    def _site_address(cls, value: str) -> str:
        """An http(s) address without a trailing slash, so links are `public_url + "/page"`."""
        value = value.strip().rstrip("/")
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://, like https://tube.example.org")
        return value

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{self.data_dir / 'webtube.sqlite3'}")
        return self


def _variable(field: str) -> str:
    return "DATABASE_URL" if field == "database_url" else ENV_PREFIX + field.upper()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Read the environment once; see README.md for the meaning of each variable."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(f"{_variable(str(e['loc'][0]))} {e['msg'].lower()}" for e in exc.errors())
        raise ConfigError(f"Invalid setting: {problems}") from exc
