"""The System page under AppTest: an admin sees the charts and the jobs table's counts, a member who is not an
admin gets one sentence, a visitor is sent to sign in (and a direct run of the file shows the sign-in prompt)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from core.accounts.users import UserInfo, register
from core.monitoring.system import stop_sampler
from core.storage.database import session_scope
from core.storage.studio_models import Job
from tests.support.app_driver import APP, open_app, texts

PASSWORD = "a long enough password"
CHARTS = {
    "Processing speed": {"Photos/s", "Video frames/s", "Job items/s"},
    "Jobs by status": {"queued", "running", "done", "failed", "cancelled"},
    "Queue depth": {"Jobs waiting"},
    "CPU (%)": {"This process (of one core)", "Machine"},
    "Memory (MB)": {"This process (resident)"},
}
COLOUR = "color -- streamlit-generated"  # st.line_chart's long format: one row per point and series


def _series(chart: Any) -> set[str]:
    """The lines a chart draws, read from the Arrow data Streamlit sends the browser."""
    table = pa.ipc.open_stream(chart.proto.datasets[0].data.data).read_all().to_pandas()
    return set(table[COLOUR]) if COLOUR in table else set(table.columns) - {"at"}


@pytest.fixture
def people(site: Path) -> Iterator[tuple[UserInfo, UserInfo]]:
    """The first account (the admin) and a second one; the page's sampler is stopped afterwards."""
    admin = register("Ada", "ada@example.com", PASSWORD, PASSWORD)
    member = register("Bob", "bob@example.com", PASSWORD, PASSWORD)
    assert admin.is_admin and not member.is_admin
    yield admin, member
    stop_sampler()


def test_an_admin_sees_the_charts_and_the_job_counts(people: tuple[UserInfo, UserInfo]) -> None:
    admin, _ = people
    with session_scope() as session:
        session.add(Job(owner_id=admin.id, kind="video_analysis", status="failed", params="{}", error="Bad video."))

    at = open_app(admin.id, "pages/system.py")

    assert not at.exception
    assert texts(at, "title") == ["System"]
    assert [s.value for s in at.subheader] == list(CHARTS)
    assert [_series(chart) for chart in at.get("vega_lite_chart")] == list(CHARTS.values())
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Jobs failed"] == "1" and metrics["Jobs queued"] == "0" and metrics["Queue depth"] == "0"
    assert any("Prometheus metrics" in caption for caption in texts(at, "caption"))


def test_a_member_who_is_not_an_admin_is_refused(people: tuple[UserInfo, UserInfo]) -> None:
    _, member = people
    at = open_app(member.id, "pages/system.py")

    assert not at.exception
    assert texts(at, "warning") == ["The System page is for administrators only."]
    assert not at.get("vega_lite_chart") and not at.metric


def test_a_visitor_is_sent_to_sign_in(people: tuple[UserInfo, UserInfo]) -> None:
    at = open_app(None, "pages/system.py")

    assert not at.exception
    assert not at.get("vega_lite_chart")
    assert at.session_state["after_sign_in"] == "pages/system.py"
    assert texts(at, "title") == ["Sign in"]
    assert texts(at, "info")[0] == "Please sign in to open “System”."


def test_the_file_run_directly_shows_a_visitor_only_the_sign_in_prompt(
    people: tuple[UserInfo, UserInfo], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("streamlit.testing.v1.app_test.PagesManager", PagesManager)  # a fresh server's first run
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.switch_page("pages/system.py")
    at.run()

    assert texts(at, "info") == ["Please sign in to open this page."]
    assert not at.get("vega_lite_chart")
