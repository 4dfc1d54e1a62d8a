"""The face studio: albums, photos (once per library), faces with embeddings, people, "not this person",
and background jobs with their items (so an import resumes without losing or doubling anything).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

Frozen: plain SQLAlchemy types only (times are naive UTC), so later model changes cannot alter history.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("faces_found", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("worker", sa.String(length=120), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_jobs_owner_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_jobs_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index("ix_jobs_status_created", ["status", "created_at"], unique=False)

    op.create_table(
        "studio_albums",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("source_ref", sa.String(length=2048), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_studio_albums_owner_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_studio_albums")),
        sa.UniqueConstraint("owner_id", "name", name="uq_studio_albums_owner_name"),
    )
    with op.batch_alter_table("studio_albums", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_studio_albums_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "studio_people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("cover_face_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_studio_people_owner_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_studio_people")),
        sa.UniqueConstraint("owner_id", "name", name="uq_studio_people_owner_name"),
    )
    with op.batch_alter_table("studio_people", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_studio_people_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "studio_photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=False),
        sa.Column("origin", sa.String(length=2048), nullable=False),
        sa.Column("stored_path", sa.String(length=300), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("taken_at", sa.DateTime(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_studio_photos_owner_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_studio_photos")),
        sa.UniqueConstraint("owner_id", "sha256", name="uq_studio_photos_owner_sha256"),
    )
    with op.batch_alter_table("studio_photos", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_studio_photos_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "job_items",
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=2048), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=False),
        sa.Column("origin", sa.String(length=2048), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("photo_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_job_items_job_id_jobs"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["photo_id"], ["studio_photos.id"], name=op.f("fk_job_items_photo_id_studio_photos"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("job_id", "seq", name=op.f("pk_job_items")),
    )
    op.create_table(
        "studio_album_photos",
        sa.Column("album_id", sa.Integer(), nullable=False),
        sa.Column("photo_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["album_id"],
            ["studio_albums.id"],
            name=op.f("fk_studio_album_photos_album_id_studio_albums"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["photo_id"],
            ["studio_photos.id"],
            name=op.f("fk_studio_album_photos_photo_id_studio_photos"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("album_id", "photo_id", name=op.f("pk_studio_album_photos")),
    )
    with op.batch_alter_table("studio_album_photos", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_studio_album_photos_photo_id"), ["photo_id"], unique=False)

    op.create_table(
        "studio_faces",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("photo_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("x1", sa.Float(), nullable=False),
        sa.Column("y1", sa.Float(), nullable=False),
        sa.Column("x2", sa.Float(), nullable=False),
        sa.Column("y2", sa.Float(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("landmarks", sa.Text(), nullable=False),
        sa.Column("quality_ok", sa.Boolean(), nullable=False),
        sa.Column("quality_reasons", sa.Text(), nullable=False),
        sa.Column("embedder", sa.String(length=40), nullable=False),
        sa.Column("dim", sa.Integer(), nullable=False),
        sa.Column("embedding", sa.LargeBinary(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("named_by", sa.String(length=20), nullable=True),
        sa.Column("suggested_person_id", sa.Integer(), nullable=True),
        sa.Column("cluster_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_studio_faces_owner_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["studio_people.id"],
            name=op.f("fk_studio_faces_person_id_studio_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["photo_id"], ["studio_photos.id"], name=op.f("fk_studio_faces_photo_id_studio_photos"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["suggested_person_id"],
            ["studio_people.id"],
            name=op.f("fk_studio_faces_suggested_person_id_studio_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_studio_faces")),
    )
    with op.batch_alter_table("studio_faces", schema=None) as batch_op:
        batch_op.create_index("ix_studio_faces_owner_cluster", ["owner_id", "cluster_id"], unique=False)
        batch_op.create_index("ix_studio_faces_owner_embedder", ["owner_id", "embedder"], unique=False)
        batch_op.create_index(batch_op.f("ix_studio_faces_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_studio_faces_photo_id"), ["photo_id"], unique=False)

    op.create_table(
        "studio_face_rejections",
        sa.Column("face_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["face_id"],
            ["studio_faces.id"],
            name=op.f("fk_studio_face_rejections_face_id_studio_faces"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["studio_people.id"],
            name=op.f("fk_studio_face_rejections_person_id_studio_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("face_id", "person_id", name=op.f("pk_studio_face_rejections")),
    )
    with op.batch_alter_table("studio_face_rejections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_studio_face_rejections_person_id"), ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("studio_face_rejections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_studio_face_rejections_person_id"))

    op.drop_table("studio_face_rejections")
    with op.batch_alter_table("studio_faces", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_studio_faces_photo_id"))
        batch_op.drop_index(batch_op.f("ix_studio_faces_person_id"))
        batch_op.drop_index("ix_studio_faces_owner_embedder")
        batch_op.drop_index("ix_studio_faces_owner_cluster")

    op.drop_table("studio_faces")
    with op.batch_alter_table("studio_album_photos", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_studio_album_photos_photo_id"))

    op.drop_table("studio_album_photos")
    op.drop_table("job_items")
    with op.batch_alter_table("studio_photos", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_studio_photos_owner_id"))

    op.drop_table("studio_photos")
    with op.batch_alter_table("studio_people", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_studio_people_owner_id"))

    op.drop_table("studio_people")
    with op.batch_alter_table("studio_albums", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_studio_albums_owner_id"))

    op.drop_table("studio_albums")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_status_created")
        batch_op.drop_index(batch_op.f("ix_jobs_owner_id"))

    op.drop_table("jobs")
