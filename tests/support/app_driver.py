"""Driving the app with Streamlit's AppTest: find widgets by their visible label, fill forms, read messages.

Tests written with these helpers read like what a person does on the page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from core.accounts import sessions
from core.accounts.sessions import Method
from pages.ui.session import TOKEN_KEY

APP = Path(__file__).resolve().parents[2] / "app.py"


class ServerPagesManager(PagesManager):
    """Pages as a running server sees them after its first `st.navigation` call.

    AppTest forgets before every run that `st.navigation` was called, so with a `pages/` folder
    each run would be a fresh server's first request (a page file run without app.py). That case
    has its own tests (tests/test_page_gate.py, tests/test_browser_gate.py); every other AppTest
    drives the app as people meet it.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        PagesManager.uses_pages_directory = False


def open_app(
    user_id: int | None = None, page: str | None = None, method: Method = "password", **params: str
) -> AppTest:
    """The app after its first run, optionally signed in as `user_id` (a real session opened by
    `method`, its token held as a tab that just signed in holds it) and on `page` with query `params`."""
    at = AppTest.from_file(str(APP), default_timeout=60)
    if user_id is not None:
        at.session_state[TOKEN_KEY], _ = sessions.create(user_id, method)
    at.run()
    if page is not None:
        go(at, page, **params)
    return at


def go(at: AppTest, page: str, **params: str) -> AppTest:
    """Open `page` (e.g. "pages/watch.py") with exactly `params` in the URL, as a link would."""
    at.switch_page(page)
    at.query_params.clear()
    at.query_params.update(params)
    return at.run()


def widget(at: AppTest, kind: str, label: str) -> Any:
    """The widget of `kind` (text_input, text_area, multiselect, ...) whose label is `label`."""
    found = [w for w in at.get(kind) if w.label == label]
    assert len(found) == 1, f"{len(found)} {kind} labelled {label!r}; have {[w.label for w in at.get(kind)]}"
    return found[0]


def button(at: AppTest, label: str) -> Any:
    """A button or form submit button by its label."""
    return widget(at, "button", label)


def fill(at: AppTest, fields: dict[str, Any]) -> AppTest:
    """Type into inputs (text inputs, text areas, multiselects) found by their labels."""
    for label, value in fields.items():
        kinds = [k for k in ("text_input", "text_area", "multiselect") if any(w.label == label for w in at.get(k))]
        assert kinds, f"no input labelled {label!r}"
        widget(at, kinds[0], label).set_value(value)
    return at


def submit(at: AppTest, label: str, fields: dict[str, Any]) -> AppTest:
    """Fill a form and press its submit button."""
    fill(at, fields)
    button(at, label).click()
    return at.run()


def texts(at: AppTest, kind: str) -> list[str]:
    """The values of every element of `kind`: "error", "success", "title", "caption", ..."""
    return [element.value for element in at.get(kind)]


def register(at: AppTest, name: str, email: str, password: str, repeated: str | None = None) -> AppTest:
    go(at, "pages/register.py")
    again = password if repeated is None else repeated
    return submit(at, "Register", {"Display name": name, "Email": email, "Password": password, "Password again": again})


def sign_in(at: AppTest, email: str, password: str) -> AppTest:
    go(at, "pages/sign_in.py")
    return submit(at, "Sign in", {"Email": email, "Password": password})


def share(at: AppTest, url: str, comment: str = "", categories: list[str] | None = None, title: str = "") -> AppTest:
    go(at, "pages/share.py")
    fields = {"Video link": url, "Comment": comment, "Categories": categories or [], "Title (optional)": title}
    return submit(at, "Share", fields)
