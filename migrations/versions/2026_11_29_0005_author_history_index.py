"""author history: an index that answers the trust look-up by itself

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 16:30:00

Every new comment counts its author's earlier comments by status (same site, keyed email
hash, same name). ``(site_id, email_lookup)`` found the author's rows but read each one from
the table for its name and status; a regular commenter with a few hundred comments cost
0.13 ms per post on SQLite, the largest statement of the write path (docs/performance.md,
"Writes"). ``(site_id, email_lookup, author_name, status)`` holds all four columns, so the
count reads the index only. It replaces the old index, whose look-ups it serves as well, so a
write maintains no more indexes than before.
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_comments_site_id_email_lookup_author_name_status",
            ["site_id", "email_lookup", "author_name", "status"],
            unique=False,
        )
        batch_op.drop_index("ix_comments_site_id_email_lookup")


def downgrade() -> None:
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_comments_site_id_email_lookup", ["site_id", "email_lookup"], unique=False
        )
        batch_op.drop_index("ix_comments_site_id_email_lookup_author_name_status")
