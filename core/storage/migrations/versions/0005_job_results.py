"""Jobs of every kind: a result, a progress line, and how many times a job was tried.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

Why: the one job system (imports, re-embedding, video analysis) keeps what a finished job made
(`result`, JSON) and what it is doing now (`stage`, a short line) on the job row itself, and a retry
counts in `attempts`. Frozen: plain SQLAlchemy types only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as table:
        table.add_column(sa.Column("result", sa.Text(), nullable=True))
        table.add_column(sa.Column("stage", sa.String(length=200), nullable=True))
        table.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        table.create_index("ix_jobs_kind_status", ["kind", "status"])


def downgrade() -> None:
    with op.batch_alter_table("jobs") as table:
        table.drop_index("ix_jobs_kind_status")
        table.drop_column("attempts")
        table.drop_column("stage")
        table.drop_column("result")
