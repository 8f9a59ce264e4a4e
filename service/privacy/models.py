"""The register of access to personal data: who saw whose email or IP, when, and why.

Append-only (database triggers; on PostgreSQL also the app role's grants) and hash-chained per
site, like the moderation event log. It holds comment ids, never the data that was seen.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Text
from sqlmodel import Field, SQLModel

from service.db import UTCDateTime


class AccessKind(StrEnum):
    EMAIL = "email"  # an email was decrypted and shown
    IP = "ip"  # an IP prefix / keyed IP hash was looked at to find related comments
    EXPORT = "export"  # a data-subject export produced by a moderator or the admin CLI


class AccessActor(StrEnum):
    MODERATOR = "moderator"
    ADMIN = "admin"  # the `margin` command line, run by whoever holds the server


class PiiAccess(SQLModel, table=True):
    __tablename__ = "pii_access"
    __table_args__ = (Index("ix_pii_access_site_id_id", "site_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(sa_column=Column(Integer, ForeignKey("sites.id"), nullable=False))
    # No foreign key: the register outlives erased and purged comments.
    comment_id: int | None = Field(
        default=None, sa_column=Column(Integer, nullable=True, index=True)
    )
    actor: str = Field(sa_column=Column(String(16), nullable=False))
    moderator_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    category: str = Field(sa_column=Column(String(32), nullable=False))
    purpose: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    prev_hash: str = Field(sa_column=Column(String(64), nullable=False))
    row_hash: str = Field(sa_column=Column(String(64), nullable=False))


class AccessEntry(SQLModel):
    """A register entry as moderators of the site and the data subject see it."""

    id: int
    comment_id: int | None
    actor: str
    moderator_id: int | None
    kind: str
    category: str
    purpose: str
    created_at: datetime


class AccessPage(SQLModel):
    items: list[AccessEntry]
    next_cursor: str | None
