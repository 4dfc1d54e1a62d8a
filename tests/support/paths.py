"""Where the project's own test data lives, for tests and benchmarks alike."""

from __future__ import annotations

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
FACES_DIR = DATA_DIR / "faces"
