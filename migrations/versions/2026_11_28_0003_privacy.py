"""privacy: the register of access to personal data (append-only, hash-chained)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 14:00:00
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
        "pii_access",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=16), nullable=False),
        sa.Column("moderator_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_pii_access_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pii_access")),
    )
    with op.batch_alter_table("pii_access", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pii_access_comment_id"), ["comment_id"], unique=False)
        batch_op.create_index("ix_pii_access_site_id_id", ["site_id", "id"], unique=False)
    _append_only("pii_access")


def downgrade() -> None:
    _drop_append_only("pii_access")
    with op.batch_alter_table("pii_access", schema=None) as batch_op:
        batch_op.drop_index("ix_pii_access_site_id_id")
        batch_op.drop_index(batch_op.f("ix_pii_access_comment_id"))
    op.drop_table("pii_access")


def _append_only(table: str) -> None:
    """The same guard as moderation_events (0001): the database refuses edits and deletions.
    TRUNCATE is a separate privilege on PostgreSQL (see docs/privacy.md for the app role)."""
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )
    else:
        op.execute(
            "CREATE OR REPLACE FUNCTION margin_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION margin_append_only()"
        )


def _drop_append_only(table: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
