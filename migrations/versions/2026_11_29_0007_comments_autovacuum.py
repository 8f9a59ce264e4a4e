"""comments (PostgreSQL): vacuum after fewer inserts, so the author-history index stays covering

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 20:00:00

Every new comment counts its author's earlier comments from ``(site_id, email_lookup,
author_name, status)`` (migration 0005). On PostgreSQL an index-only scan still reads the table
for every row on a page not yet marked all-visible, and only VACUUM marks pages. By default an
insert-only table is vacuumed after 1,000 + 20 % of its rows were inserted: a new site, or a
million-comment table between two vacuums, pays a table read per earlier comment of the author.
Measured with two workers posting: 402 posts/s on a fresh table, 170 once ~9,000 comments were
stored and never vacuumed, 404-430 right after ``VACUUM ANALYZE comments``
(docs/performance.md, "Sixth session"). SQLite has no visibility map: nothing to do there.
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_SETTINGS = (
    "autovacuum_vacuum_insert_threshold = 1000",
    "autovacuum_vacuum_insert_scale_factor = 0.01",
    "autovacuum_analyze_scale_factor = 0.02",
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE comments SET ({', '.join(_SETTINGS)})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        names = ", ".join(setting.split(" = ")[0] for setting in _SETTINGS)
        op.execute(f"ALTER TABLE comments RESET ({names})")
