"""moderators: token expiry and the site-admin scope

Revision ID: 0008_firsthour
Revises: 0007
Create Date: 2026-12-08 01:40:00

``expires_at``: a token is refused (401) from this time on; NULL never expires. Revocation
already had ``revoked_at``. ``site_admin``: the token may manage its own sites (name, origins,
mode) and the tokens of moderators of those sites (list, create, revoke, rotate).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_firsthour"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("moderators") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("site_admin", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("moderators") as batch:
        batch.drop_column("site_admin")
        batch.drop_column("expires_at")
