"""Video face analysis: the analyses (one per job) and the people found in each.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

Why: a video analysis keeps who appears when (time ranges, a centroid embedding, a thumbnail file) and
links to the site's video (SET NULL when it is deleted) and to the owner's studio people (SET NULL when a
person is deleted: they turn back into their "Unknown person N" label). Frozen: plain SQLAlchemy types only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "video_analyses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("video_id", sa.Integer(), nullable=True),
        sa.Column("source_name", sa.String(length=255), nullable=False),
        sa.Column("files_dir", sa.String(length=300), nullable=False),
        sa.Column("annotated_path", sa.String(length=300), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("fps", sa.Float(), nullable=False),
        sa.Column("frame_count", sa.Integer(), nullable=False),
        sa.Column("sample_fps", sa.Float(), nullable=False),
        sa.Column("sampled_frames", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("embedder", sa.String(length=40), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("timings", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_video_analyses_job_id_jobs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_video_analyses_owner_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["video_id"], ["videos.id"], name=op.f("fk_video_analyses_video_id_videos"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_video_analyses")),
        sa.UniqueConstraint("job_id", name=op.f("uq_video_analyses_job_id")),
    )
    with op.batch_alter_table("video_analyses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_video_analyses_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_video_analyses_video_id"), ["video_id"], unique=False)

    op.create_table(
        "video_analysis_people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("analysis_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("similarity_pct", sa.Float(), nullable=True),
        sa.Column("thumbnail_path", sa.String(length=300), nullable=False),
        sa.Column("ranges", sa.Text(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("first_seen_s", sa.Float(), nullable=False),
        sa.Column("sightings", sa.Integer(), nullable=False),
        sa.Column("embedder", sa.String(length=40), nullable=False),
        sa.Column("dim", sa.Integer(), nullable=False),
        sa.Column("centroid", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["analysis_id"],
            ["video_analyses.id"],
            name=op.f("fk_video_analysis_people_analysis_id_video_analyses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["studio_people.id"],
            name=op.f("fk_video_analysis_people_person_id_studio_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_video_analysis_people")),
        sa.UniqueConstraint("analysis_id", "seq", name="uq_video_analysis_people_analysis_seq"),
    )
    with op.batch_alter_table("video_analysis_people", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_video_analysis_people_analysis_id"), ["analysis_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_video_analysis_people_person_id"), ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("video_analysis_people", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_video_analysis_people_person_id"))
        batch_op.drop_index(batch_op.f("ix_video_analysis_people_analysis_id"))

    op.drop_table("video_analysis_people")
    with op.batch_alter_table("video_analyses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_video_analyses_video_id"))
        batch_op.drop_index(batch_op.f("ix_video_analyses_owner_id"))

    op.drop_table("video_analyses")
