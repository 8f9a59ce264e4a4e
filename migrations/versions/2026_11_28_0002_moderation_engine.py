"""moderation engine

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 12:48:53.655142
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_rate_events_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_events")),
    )
    with op.batch_alter_table("rate_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_rate_events_site_id_scope_key_at", ["site_id", "scope", "key", "at"], unique=False
        )

    op.create_table(
        "spam_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=True),
        sa.Column("label", sa.String(length=8), nullable=False),
        sa.Column("delta", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_spam_feedback_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spam_feedback")),
    )
    with op.batch_alter_table("spam_feedback", schema=None) as batch_op:
        batch_op.create_index("ix_spam_feedback_site_id_id", ["site_id", "id"], unique=False)

    op.create_table(
        "comment_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("reporter_key", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comments.id"],
            name=op.f("fk_comment_flags_comment_id_comments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_comment_flags_site_id_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comment_flags")),
        sa.UniqueConstraint(
            "comment_id", "reporter_key", name=op.f("uq_comment_flags_comment_id_reporter_key")
        ),
    )
    with op.batch_alter_table("comment_flags", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_comment_flags_comment_id"), ["comment_id"], unique=False
        )

    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("review_requested", sa.Boolean(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_column("review_requested")

    with op.batch_alter_table("comment_flags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comment_flags_comment_id"))

    op.drop_table("comment_flags")
    with op.batch_alter_table("spam_feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_spam_feedback_site_id_id")

    op.drop_table("spam_feedback")
    with op.batch_alter_table("rate_events", schema=None) as batch_op:
        batch_op.drop_index("ix_rate_events_site_id_scope_key_at")

    op.drop_table("rate_events")
