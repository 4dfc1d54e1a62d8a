"""Shared fixtures: the real photos in tests/data/faces and an isolated data directory per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from core.config import get_settings
from tests.support.app_driver import ServerPagesManager
from tests.support.paths import FACES_DIR

pytest_plugins = ["tests.support.media_server"]

# Browser checks wait for what a person would wait for; Playwright's 5 s default is too short for a
# Streamlit run on a busy 2-core machine (the first page of a fresh server takes several seconds).
expect.set_options(timeout=30_000)


@pytest.fixture(scope="session")
def faces_dir() -> Path:
    """The project's real test photos (tests/data/faces); read in place, never copied."""
    assert FACES_DIR.is_dir(), f"test photos missing at {FACES_DIR}"
    return FACES_DIR


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh WEBTUBE_DATA_DIR (and SQLite database) for one test; weights stay shared."""
    monkeypatch.setenv("WEBTUBE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("WEBTUBE_ALLOW_PRIVATE_URLS", "true")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


@pytest.fixture
def site(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh video site in `data_dir`, with cheap bcrypt (4 rounds) so account tests stay fast.

    streamlit-webrtc looks its session up in a live Runtime, which AppTest does not have; pages
    that hold a camera panel (profile, sign-in) render under AppTest with that lookup answered empty.
    """
    monkeypatch.setenv("WEBTUBE_BCRYPT_ROUNDS", "4")
    get_settings.cache_clear()
    monkeypatch.setattr("streamlit_webrtc.component.get_this_session_info", lambda: None)
    monkeypatch.setattr("streamlit.testing.v1.app_test.PagesManager", ServerPagesManager)
    return data_dir
