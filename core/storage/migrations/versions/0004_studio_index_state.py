"""The face index's check row: per owner and face model, a generation, a face count and a sum of face ids,
kept by triggers in the same transaction as every face written or deleted.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

Why triggers: the search index is a derived copy of the faces; whichever code deletes a face (a photo,
an album, a person, an account), the row changes with it or not at all, so an index can always tell
whether it is in step with the database before it answers (core/studio/index_state.py).
Frozen: plain SQLAlchemy types and literal SQL only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_BUMP = """INSERT INTO studio_index_state (owner_id, embedder, generation, face_count, id_sum)
VALUES ({row}.owner_id, {row}.embedder, 1, {sign}1, {sign}{row}.id)
ON CONFLICT (owner_id, embedder) DO UPDATE SET generation = studio_index_state.generation + 1,
face_count = studio_index_state.face_count {sign} 1, id_sum = studio_index_state.id_sum {sign} {row}.id"""

_SQLITE = {
    "studio_faces_state_insert": ("AFTER INSERT ON studio_faces", [_BUMP.format(row="NEW", sign="+")]),
    "studio_faces_state_delete": ("AFTER DELETE ON studio_faces", [_BUMP.format(row="OLD", sign="-")]),
    "studio_faces_state_update": (
        "AFTER UPDATE OF id, owner_id, embedder, embedding ON studio_faces",
        [_BUMP.format(row="OLD", sign="-"), _BUMP.format(row="NEW", sign="+")],
    ),
}

_PG_FUNCTION = f"""CREATE FUNCTION studio_faces_state() RETURNS trigger AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') THEN {_BUMP.format(row="OLD", sign="-")}; END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN {_BUMP.format(row="NEW", sign="+")}; END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql"""


def upgrade() -> None:
    op.create_table(
        "studio_index_state",
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("embedder", sa.String(length=40), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.Column("face_count", sa.BigInteger(), nullable=False),
        sa.Column("id_sum", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("owner_id", "embedder", name=op.f("pk_studio_index_state")),
    )
    # Faces written before this revision are counted once, so the triggers start from the truth.
    op.execute(
        "INSERT INTO studio_index_state (owner_id, embedder, generation, face_count, id_sum) "
        "SELECT owner_id, embedder, COUNT(*), COUNT(*), SUM(id) FROM studio_faces GROUP BY owner_id, embedder"
    )
    if op.get_context().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        op.execute(
            "CREATE TRIGGER studio_faces_state AFTER INSERT OR DELETE OR UPDATE OF id, owner_id, embedder, embedding "
            "ON studio_faces FOR EACH ROW EXECUTE FUNCTION studio_faces_state()"
        )
        return
    for name, (when, statements) in _SQLITE.items():
        body = "".join(f"{statement};\n" for statement in statements)
        op.execute(f"CREATE TRIGGER {name} {when} FOR EACH ROW BEGIN\n{body}END")


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS studio_faces_state ON studio_faces")
        op.execute("DROP FUNCTION IF EXISTS studio_faces_state()")
    else:
        for name in _SQLITE:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("studio_index_state")
