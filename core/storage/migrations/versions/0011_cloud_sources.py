"""Cloud imports: a photo remembers its id at the provider, so importing the same album again skips it.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02

Why a column and not the origin text: the provider's id is stable while names and download links change;
an index on (owner, source id) makes the re-import's check one lookup per photo. The job item carries the id
until the photo is recorded. Frozen: plain SQLAlchemy types only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("studio_photos") as table:
        table.add_column(sa.Column("source_id", sa.String(length=300), nullable=True))
        table.create_index("ix_studio_photos_owner_source", ["owner_id", "source_id"])
    with op.batch_alter_table("job_items") as table:
        table.add_column(sa.Column("source_id", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("job_items") as table:
        table.drop_column("source_id")
    with op.batch_alter_table("studio_photos") as table:
        table.drop_index("ix_studio_photos_owner_source")
        table.drop_column("source_id")
