"""The append-only moderation event log: who did what to which comment, when and why."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Column, ForeignKey, Index, Integer, String, Text
from sqlmodel import Field, SQLModel

from service.db import UTCDateTime


class Actor(StrEnum):
    SYSTEM = "system"  # the automatic moderation pipeline
    MODERATOR = "moderator"
    AUTHOR = "author"  # the commenter, through their edit token
    READER = "reader"  # a reader's flag
    OPERATOR = "operator"  # the command line (`margin site update`), run with server access


class ModerationEvent(SQLModel, table=True):
    __tablename__ = "moderation_events"
    __table_args__ = (Index("ix_moderation_events_site_id_id", "site_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(sa_column=Column(Integer, ForeignKey("sites.id"), nullable=False))
    # No foreign key: events outlive purged comments (the log is the accountability record).
    comment_id: int | None = Field(
        default=None, sa_column=Column(Integer, nullable=True, index=True)
    )
    actor: str = Field(sa_column=Column(String(16), nullable=False))
    moderator_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    action: str = Field(sa_column=Column(String(32), nullable=False))
    from_status: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    to_status: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # Hash chain per site: each row commits to the previous one, so an edit anywhere shows.
    prev_hash: str = Field(sa_column=Column(String(64), nullable=False))
    row_hash: str = Field(sa_column=Column(String(64), nullable=False))


class EventPublic(SQLModel):
    id: int
    comment_id: int | None
    actor: str
    moderator_id: int | None
    action: str
    from_status: str | None
    to_status: str | None
    reason: str
    details: dict[str, Any]
    created_at: datetime


class SpamFeedback(SQLModel, table=True):
    """One moderator decision fed to a site's spam model: the exact weight change it caused,
    so a reversed decision can be undone exactly and every worker can rebuild the model."""

    __tablename__ = "spam_feedback"
    __table_args__ = (Index("ix_spam_feedback_site_id_id", "site_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(sa_column=Column(Integer, ForeignKey("sites.id"), nullable=False))
    comment_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    label: str = Field(sa_column=Column(String(8), nullable=False))
    delta: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
