"""Alembic migrations, run programmatically: every start upgrades the database to `head`.

See README.md in this folder for how to add the next revision.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

HERE = Path(__file__).resolve().parent


def upgrade_to_head(connection: Connection) -> None:
    """Bring the schema to the newest revision over `connection`; revisions alter tables, so rows are kept."""
    config = Config()  # no ini file: the app configures Alembic in code
    config.set_main_option("script_location", str(HERE))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
