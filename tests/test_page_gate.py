"""Each page file run on its own, as a fresh server runs it for its very first request (no app.py).

Member-only pages must show a sign-in prompt and nothing else; public pages must offer no
member action. The browser twin of this test is tests/test_browser_gate.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from core.accounts.users import register
from tests.support.app_driver import texts
from tests.support.app_server import ROOT

APP = ROOT / "app.py"

PAGES = sorted(p.name for p in (ROOT / "pages").glob("*.py"))
STUDIO = {f"studio_{name}.py" for name in ("people", "library", "search", "recognise", "live", "clusters", "videos",
                                           "export", "jobs")}
MEMBERS_ONLY = {"share.py", "profile.py", "system.py", "admin.py", *STUDIO}
PUBLIC = {"feed.py", "watch.py", "sign_in.py", "register.py", "author.py", "reset_password.py"}
MEMBER_WIDGETS = {"Video link", "Delete my face data", "Sign out", "Remove picture", "Delete this video", "Import"}


@pytest.fixture
def fresh_server(site: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """AppTest as Streamlit ships it: every run is a fresh server's first request."""
    monkeypatch.setattr("streamlit.testing.v1.app_test.PagesManager", PagesManager)
    return site


def _first_request(name: str, **state: int) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    for key, value in state.items():
        at.session_state[key] = value
    at.switch_page(f"pages/{name}")
    return at.run()


def _labels(at: AppTest) -> set[str]:
    kinds = ("button", "text_input", "text_area", "file_uploader", "multiselect")
    return {w.label for kind in kinds for w in at.get(kind)}


def test_every_page_file_is_covered() -> None:
    assert set(PAGES) == PUBLIC | MEMBERS_ONLY


@pytest.mark.parametrize("name", sorted(MEMBERS_ONLY))
def test_member_page_run_directly_shows_only_a_sign_in_prompt(fresh_server: Path, name: str) -> None:
    register("Ann", "ann@example.com", "a long enough password", "a long enough password")
    at = _first_request(name)
    assert not at.exception
    assert texts(at, "info") == ["Please sign in to open this page."]
    assert _labels(at) == set()
    assert [link.label for link in at.get("page_link")] == ["Sign in"]


@pytest.mark.parametrize("name", sorted(set(PAGES) - MEMBERS_ONLY))
def test_public_page_run_directly_offers_no_member_action(fresh_server: Path, name: str) -> None:
    at = _first_request(name)
    assert not at.exception
    assert not _labels(at) & MEMBER_WIDGETS


def test_a_stale_session_id_of_a_deleted_account_is_not_a_member(fresh_server: Path) -> None:
    at = _first_request("share.py", user_id=999)
    assert texts(at, "info") == ["Please sign in to open this page."]
    assert "user_id" not in at.session_state
