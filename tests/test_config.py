"""Settings: defaults that work offline, typed values from the environment, clear refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import ConfigError, get_settings
from core.hosting.ice import rtc_configuration


def test_defaults_give_a_working_offline_app(data_dir: Path) -> None:
    settings = get_settings()
    assert settings.database_url == f"sqlite:///{data_dir / 'webtube.sqlite3'}"
    assert settings.embedder == "dlib"
    assert settings.liveness is True
    assert rtc_configuration(settings) == {"iceServers": []}


def test_values_are_parsed_and_normalised(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBTUBE_EMBEDDER", " FaceNet ")
    monkeypatch.setenv("WEBTUBE_LIVENESS", "off")
    monkeypatch.setenv("WEBTUBE_BCRYPT_ROUNDS", "40")
    monkeypatch.setenv("WEBTUBE_SIGNIN_THRESHOLD", "")  # empty means the default
    get_settings.cache_clear()
    settings = get_settings()
    assert (settings.embedder, settings.liveness, settings.bcrypt_rounds) == ("facenet", False, 16)
    assert settings.signin_threshold is None


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("WEBTUBE_EMBEDDER", "vgg"),
        ("WEBTUBE_MAX_UPLOAD_MB", "lots"),
        ("WEBTUBE_LIVENESS", "maybe"),
        ("WEBTUBE_ICE_SERVERS", '{"urls": "stun:x"}'),
        ("WEBTUBE_MIN_FACE_PX", "3"),
    ],
)
def test_a_bad_value_is_refused_naming_its_variable(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    get_settings.cache_clear()
    with pytest.raises(ConfigError, match=variable):
        get_settings()


def test_streamlit_secrets_are_a_settings_source_below_the_environment(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('WEBTUBE_EMBEDDER = "sface"\nWEBTUBE_LOGIN_MAX_FAILURES = 3\n'
                       'DATABASE_URL = "sqlite:////tmp/from-secrets.sqlite3"\n[connections.other]\nurl = "x"\n')
    monkeypatch.setattr("core.config.SECRETS_FILES", (tmp_path / "absent.toml", secrets))
    get_settings.cache_clear()
    settings = get_settings()
    assert (settings.embedder, settings.login_max_failures) == ("sface", 3)
    assert settings.database_url == "sqlite:////tmp/from-secrets.sqlite3"

    monkeypatch.setenv("WEBTUBE_EMBEDDER", "dlib")  # the environment wins
    get_settings.cache_clear()
    assert get_settings().embedder == "dlib"

    secrets.write_text('WEBTUBE_LOGIN_MAX_FAILURES = "lots"\n')
    get_settings.cache_clear()
    with pytest.raises(ConfigError, match="WEBTUBE_LOGIN_MAX_FAILURES"):
        get_settings()
