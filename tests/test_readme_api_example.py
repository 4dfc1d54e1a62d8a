"""The README's HTTP API example, run as it is written against a real `python -m core api` server.

The code block after `<!-- api-example -->` is read from README.md and run in its own Python process, with
the server's address in WEBTUBE_API_URL and the same data folder: if the README drifts from the API, CI fails.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from core.accounts.users import register
from tests.support.api_server import run_api_server
from tests.support.app_server import ROOT, TEST_ENV
from tests.support.face_app import settings_for

PASSWORD = "a long enough password"


def _example() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- api-example -->\n```python\n(.*?)```", readme, re.S)
    assert found, "README.md has no api-example block"
    return found.group(1)


def test_the_readme_example_imports_an_album_and_finds_the_person_through_the_api(tmp_path: Path) -> None:
    with settings_for(tmp_path):
        register("Ann", "ann@example.com", PASSWORD, PASSWORD)
    with run_api_server(tmp_path) as server:
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env |= {**TEST_ENV, "WEBTUBE_DATA_DIR": str(tmp_path), "WEBTUBE_API_URL": server.url, "PYTHONPATH": str(ROOT)}
        run = subprocess.run([sys.executable, "-c", _example()], cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=600)
        assert run.returncode == 0, run.stderr + server.log()[-3000:]
    lines = run.stdout.splitlines()
    imported = next(line for line in lines if line.startswith("imported:"))
    photos = len([p for p in (ROOT / "tests/data/faces/people").rglob("*") if p.is_file()])
    assert f"'photos': {photos}" in imported and "'failures': 0" in imported, run.stdout
    matches = [line for line in lines if line.endswith((".jpg", ".png")) and "%" in line]
    assert matches and all("obama" in line for line in matches), run.stdout
    assert len(matches) >= 3  # obama_1, 2 and 4 at least (obama_3 is the sample: itself, at 100 %)
