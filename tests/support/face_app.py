"""A running app whose accounts already have enrolled faces: what the face browser tests start from."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from core.accounts.users import register
from core.config import get_settings
from core.face_signin.enrolment import enrol_photo
from tests.support.app_server import AppServer, run_app_server


@contextmanager
def settings_for(data_dir: Path) -> Iterator[None]:
    """Point this process's settings at `data_dir` (and cheap bcrypt) for the duration of the block."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("WEBTUBE_DATA_DIR", str(data_dir))
        env.delenv("DATABASE_URL", raising=False)
        env.setenv("WEBTUBE_BCRYPT_ROUNDS", "4")
        get_settings.cache_clear()
        try:
            yield
        finally:
            get_settings.cache_clear()


@contextmanager
def enrolled_app(data_dir: Path, faces_dir: Path, people: dict[str, str], env: dict[str, str]) -> Iterator[AppServer]:
    """Register each name (email name@example.com) with the face of its photo, then serve the app."""
    with settings_for(data_dir):
        for name, photo in people.items():
            user = register(name, f"{name.lower()}@example.com", "a long enough password", "a long enough password")
            enrol_photo(user.id, (faces_dir / photo).read_bytes(), keep_image=False)
        with run_app_server(data_dir, env=env) as server:
            yield server


def open_sign_in(page: Any, server: AppServer) -> None:
    """Open the sign-in page through the home page, as a visitor arrives.

    On a fresh server Streamlit runs a script in `pages/` directly (no app.py, no sidebar) until
    the first `st.navigation` call in the process; the home page makes that call.
    """
    page.goto(f"{server.url}/")
    expect(page.get_by_text("Not signed in")).to_be_visible(timeout=30_000)
    page.goto(f"{server.url}/sign_in")
    expect(page.get_by_text("Sign in with your face")).to_be_visible(timeout=30_000)
