"""Moderator tables. Only a SHA-256 of each token is stored (256-bit random tokens, ASVS 6.5.2)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, false
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
    # Refused from this time on (401); None never expires.
    expires_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    # May manage its sites (name, origins, mode) and the tokens of their moderators.
    site_admin: bool = Field(
        default=False,
        sa_column=Column(Boolean, nullable=False, default=False, server_default=false()),
    )


class ModeratorSite(SQLModel, table=True):
    __tablename__ = "moderator_sites"

    moderator_id: int = Field(
        sa_column=Column(Integer, ForeignKey("moderators.id", ondelete="CASCADE"), primary_key=True)
    )
    site_id: int = Field(
        sa_column=Column(Integer, ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True)
    )


class ModeratorView(SQLModel):
    """A moderator as the command line and site admins see it: never the token or its hash."""

    id: int
    name: str
    sites: list[str] = Field(description="slugs of the sites this moderator acts on")
    can_reveal_pii: bool = Field(description="may reveal emails and IPs (each reveal recorded)")
    site_admin: bool = Field(description="may manage these sites and their moderators' tokens")
    created_at: datetime
    expires_at: datetime | None = Field(description="refused from this time on; null: never")
    revoked_at: datetime | None
    state: Literal["active", "expired", "revoked"]


class ModeratorCreate(SQLModel):
    """A new moderator of some of your sites. A site admin grants no scope it lacks itself."""

    name: str = Field(min_length=1, max_length=100)
    sites: list[str] = Field(min_length=1, max_length=50, description="site slugs")
    can_reveal_pii: bool = False
    site_admin: bool = False
    expires_at: datetime | None = Field(
        default=None, description="ISO 8601 with time zone; null: the token never expires"
    )


class TokenRotation(SQLModel):
    expires_at: datetime | None = Field(
        default=None, description="the new token's expiry (ISO 8601 with time zone); null: never"
    )


class IssuedToken(SQLModel):
    """A token is shown once, in this answer; only its SHA-256 is stored."""

    moderator: ModeratorView
    token: str
