"""comments: no index on the keyed email hash alone

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 19:00:00

``ix_comments_email_lookup`` served only data-subject requests (find a person's comments on
every site), which are rare; ``(site_id, email_lookup, author_name, status)`` answers them too,
one probe per site (service.privacy.subjects.find_by_email). Every new comment paid for it:
keyed hashes are random, so each insert wrote one more random index page. In the write-ahead
log of a posting benchmark it was 14 % of the pages written, the third largest share
(docs/performance.md, "Writes").
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_index("ix_comments_email_lookup")


def downgrade() -> None:
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.create_index("ix_comments_email_lookup", ["email_lookup"], unique=False)
