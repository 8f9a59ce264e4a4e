"""Thread and comment tables, and the models that decide what each audience may see.

``Comment`` (the table) holds private columns; only ``CommentPublic`` goes to readers and only
``CommentForModerator`` to moderators. Neither has the email, its hashes or the IP.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

from service.db import UTCDateTime


class CommentStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SPAM = "spam"
    DELETED = "deleted"


REMOVED_STATUSES = (CommentStatus.REJECTED, CommentStatus.SPAM, CommentStatus.DELETED)


class Thread(SQLModel, table=True):
    __tablename__ = "threads"
    __table_args__ = (UniqueConstraint("site_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(sa_column=Column(Integer, ForeignKey("sites.id"), nullable=False))
    key: str = Field(sa_column=Column(String(512), nullable=False))
    title: str = Field(default="", sa_column=Column(String(300), nullable=False))
    url: str | None = Field(default=None, sa_column=Column(String(2048), nullable=True))
    is_open: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    # Approved comments, kept in step with every status change so counts never scan.
    approved_count: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    # Bumped on every change a reader can see; the public cache validates against it.
    version: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Comment(SQLModel, table=True):
    __tablename__ = "comments"
    __table_args__ = (
        Index("ix_comments_thread_id_status_id", "thread_id", "status", "id"),
        Index("ix_comments_root_id_id", "root_id", "id"),
        Index("ix_comments_site_id_status_id", "site_id", "status", "id"),
        # Covers the author-history count of every new comment (migration 0005).
        Index(
            "ix_comments_site_id_email_lookup_author_name_status",
            "site_id",
            "email_lookup",
            "author_name",
            "status",
        ),
        Index("ix_comments_thread_id_dedupe_key", "thread_id", "dedupe_key"),
        # Top-level comments only, in page order: a thread page reads limit + 1 entries however
        # large the thread (migration 0004, docs/performance.md).
        Index(
            "ix_comments_top_level_thread_id_id",
            "thread_id",
            "id",
            sqlite_where=text("parent_id IS NULL"),
            postgresql_where=text("parent_id IS NULL"),
        ),
        Index(
            "ix_comments_top_level_thread_id_reply_count_id",
            "thread_id",
            "reply_count",
            "id",
            sqlite_where=text("parent_id IS NULL"),
            postgresql_where=text("parent_id IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(sa_column=Column(Integer, ForeignKey("sites.id"), nullable=False))
    thread_id: int = Field(sa_column=Column(Integer, ForeignKey("threads.id"), nullable=False))
    parent_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("comments.id"), nullable=True)
    )
    # The top-level comment of this reply's tree (None for top-level comments): one indexed
    # query fetches a whole page's replies.
    root_id: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    depth: int = Field(default=0, sa_column=Column(Integer, nullable=False))

    author_name: str = Field(sa_column=Column(String(64), nullable=False))
    website: str | None = Field(default=None, sa_column=Column(String(2048), nullable=True))
    body: str = Field(sa_column=Column(Text, nullable=False))
    html: str = Field(sa_column=Column(Text, nullable=False))

    status: str = Field(sa_column=Column(String(16), nullable=False))
    # The moderation decision that set the current status: every check's verdict and reason.
    moderation: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    reply_count: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    flag_count: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    # Readers' reports reached the site's threshold: a moderator should look. The comment stays
    # published; reports alone never hide anything.
    review_requested: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default="0")
    )

    # Personal data: encrypted email bound to this row, keyed look-up hash, IP minimised.
    email_ciphertext: bytes | None = Field(
        default=None, sa_column=Column(LargeBinary, nullable=True)
    )
    email_key_id: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    email_lookup: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    email_lookup_key_id: str | None = Field(
        default=None, sa_column=Column(String(16), nullable=True)
    )
    avatar: str = Field(default="", sa_column=Column(String(16), nullable=False))
    ip_prefix: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    ip_hash: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    ip_expires_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )

    edit_token_hash: str = Field(sa_column=Column(String(64), nullable=False))
    dedupe_key: str = Field(sa_column=Column(String(64), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    edited_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    status_changed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class IdempotencyRecord(SQLModel, table=True):
    """A client's Idempotency-Key: the same key returns the same comment, never a second one."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("site_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(sa_column=Column(Integer, ForeignKey("sites.id"), nullable=False))
    key: str = Field(sa_column=Column(String(128), nullable=False))
    fingerprint: str = Field(sa_column=Column(String(64), nullable=False))
    comment_id: int = Field(
        sa_column=Column(Integer, ForeignKey("comments.id", ondelete="CASCADE"), nullable=False)
    )
    # The edit token is returned again on a replay, so it is kept here sealed to this row.
    token_ciphertext: bytes | None = Field(
        default=None, sa_column=Column(LargeBinary, nullable=True)
    )
    token_key_id: str | None = Field(default=None, sa_column=Column(String(16), nullable=True))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class CommentPublic(SQLModel):
    """A comment as any reader sees it. Nothing private can be added here by accident:
    it is built field by field from the table row."""

    id: int
    parent_id: int | None
    author_name: str
    website: str | None
    html: str
    created_at: datetime
    edited_at: datetime | None
    avatar: str
    reply_count: int
    removed: bool = False
    removed_reason: str | None = None


class ThreadPublic(SQLModel):
    key: str
    title: str
    url: str | None
    open: bool
    total: int


class ThreadPage(SQLModel):
    thread: ThreadPublic
    comments: list[CommentPublic]
    next_cursor: str | None


class CommentCounts(SQLModel):
    counts: dict[str, int]


class CommentCreated(SQLModel):
    id: int
    status: str
    edit_token: str
    editable_until: datetime
    reason: str
    comment: CommentPublic


class OwnComment(SQLModel):
    """What the author sees through their edit token: their text, status and the reason."""

    id: int
    status: str
    reason: str
    body: str
    editable_until: datetime
    comment: CommentPublic


class Preview(SQLModel):
    html: str


class RateEvent(SQLModel, table=True):
    """One submission, counted for flood limits by every worker (per IP, author and thread).
    Keys are keyed hashes; rows older than the longest window are purged."""

    __tablename__ = "rate_events"
    __table_args__ = (
        Index("ix_rate_events_site_id_scope_key_at", "site_id", "scope", "key", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(sa_column=Column(Integer, ForeignKey("sites.id"), nullable=False))
    scope: str = Field(sa_column=Column(String(8), nullable=False))
    key: str = Field(sa_column=Column(String(64), nullable=False))
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class CommentFlag(SQLModel, table=True):
    """A reader's report. Flags only ever put a comment back in the queue; they never hide it."""

    __tablename__ = "comment_flags"
    __table_args__ = (UniqueConstraint("comment_id", "reporter_key"),)

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(sa_column=Column(Integer, ForeignKey("sites.id"), nullable=False))
    comment_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("comments.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    category: str = Field(sa_column=Column(String(32), nullable=False))
    note: str = Field(default="", sa_column=Column(String(500), nullable=False))
    # Keyed hash of the reporter's IP: one flag per reader per comment, no IP kept.
    reporter_key: str = Field(sa_column=Column(String(32), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
