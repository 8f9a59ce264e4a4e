"""performance: indexes for the first page of very large threads

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 15:00:00

A thread page selects top-level comments (``parent_id IS NULL``) of one thread in id order (or
by reply count). With only ``(thread_id, status, id)`` the planner read every comment of the
thread and sorted them: about 100,000 rows for the first page of a 100,000-comment thread.
These partial indexes hold top-level comments only, already in page order, so a page reads
``limit + 1`` index entries whatever the thread's size (bench/large_data.py,
docs/performance.md).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TOP_LEVEL = "parent_id IS NULL"


def upgrade() -> None:
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_comments_top_level_thread_id_id",
            ["thread_id", "id"],
            unique=False,
            sqlite_where=sa.text(TOP_LEVEL),
            postgresql_where=sa.text(TOP_LEVEL),
        )
        batch_op.create_index(
            "ix_comments_top_level_thread_id_reply_count_id",
            ["thread_id", "reply_count", "id"],
            unique=False,
            sqlite_where=sa.text(TOP_LEVEL),
            postgresql_where=sa.text(TOP_LEVEL),
        )


def downgrade() -> None:
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_index("ix_comments_top_level_thread_id_reply_count_id")
        batch_op.drop_index("ix_comments_top_level_thread_id_id")
