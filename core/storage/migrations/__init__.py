"""Alembic migrations, run programmatically: every start upgrades the database to `head`.

See README.md in this folder for how to add the next revision.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

HERE = Path(__file__).resolve().parent


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration in code (no ini file), working over `connection` when one is given."""
    config = Config()
    config.set_main_option("script_location", str(HERE))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade_to(connection: Connection, revision: str) -> None:
    """Bring the schema to `revision` over `connection`; revisions alter tables, so rows are kept."""
    command.upgrade(alembic_config(connection), revision)


def upgrade_to_head(connection: Connection) -> None:
    """Bring the schema to the newest revision over `connection` (what every start does)."""
    upgrade_to(connection, "head")
