"""Moderator tables. Only a SHA-256 of each token is stored (256-bit random tokens, ASVS 6.5.2)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, ForeignKey, Integer, String
from sqlmodel import Field, SQLModel

from service.db import UTCDateTime


class Moderator(SQLModel, table=True):
    __tablename__ = "moderators"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(100), nullable=False))
    token_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    # May reveal commenters' emails (each reveal is recorded with its purpose).
    can_reveal_pii: bool = Field(sa_column=Column(Boolean, nullable=False, default=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    revoked_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )


class ModeratorSite(SQLModel, table=True):
    __tablename__ = "moderator_sites"

    moderator_id: int = Field(
        sa_column=Column(Integer, ForeignKey("moderators.id", ondelete="CASCADE"), primary_key=True)
    )
    site_id: int = Field(
        sa_column=Column(Integer, ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True)
    )
