"""A shared video's size as its site reports it, so the download can say how big it is before the fetch.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

Frozen: plain SQLAlchemy types only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("videos") as table:
        table.add_column(sa.Column("size_bytes", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("videos") as table:
        table.drop_column("size_bytes")
