"""Alembic environment: the app passes its own connection; the `alembic` command line opens one from settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from core.config import get_settings
from core.storage.database import create_engine_for
from core.storage.models import Base

config = context.config


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


given = config.attributes.get("connection")
if given is not None:
    run(given)
else:
    engine = create_engine_for(config.get_main_option("sqlalchemy.url") or get_settings().database_url)
    with engine.connect() as opened:
        run(opened)
    engine.dispose()
