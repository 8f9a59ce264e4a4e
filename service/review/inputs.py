"""What moderators may send and what they get back."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlmodel import SQLModel

from service import textcheck
from service.bounded import DbId


class DecisionAction(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    SPAM = "spam"
    DELETE = "delete"


class RevealCategory(StrEnum):
    MODERATION = "moderation"
    ABUSE = "abuse"
    SUBJECT_REQUEST = "subject_request"
    LEGAL = "legal"
    GOVERNMENT = "government"
    OTHER = "other"


def _reason(value: str) -> str:
    value = textcheck.multi_line(value, "reason").strip()
    if not value:
        raise ValueError("a reason is required: say why, in plain words")
    return value


class DecisionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: DecisionAction
    reason: str = Field(min_length=1, max_length=1000)
    # Published on the transparency report and shown to the author: one plain line.
    category: str | None = Field(default=None, max_length=64)

    _check_reason = field_validator("reason")(_reason)

    @field_validator("category")
    @classmethod
    def _category(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return textcheck.single_line(value, "category") or None


class BulkDecisionRequest(DecisionRequest):
    ids: list[DbId] = Field(min_length=1, max_length=500)


class RevealRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purpose: str = Field(min_length=10, max_length=1000)
    category: RevealCategory

    _check_purpose = field_validator("purpose")(_reason)


class CommentForModerator(SQLModel):
    """A comment as a moderator sees it: everything needed to decide, no email or hash of it."""

    id: int
    site: str
    thread_key: str
    parent_id: int | None
    author_name: str
    website: str | None
    body: str
    html: str
    status: str
    reason: str
    moderation: dict[str, Any]
    reply_count: int
    flag_count: int
    review_requested: bool
    avatar: str
    created_at: datetime
    edited_at: datetime | None
    # Which review queue the comment is in: "pending", "spam" (the spam folder), "flagged"
    # (published, reported by readers), or None (decided and published).
    queue: str | None = None


class QueueCounts(SQLModel):
    """How many comments wait in each queue of the site, whatever the listing shows."""

    pending: int
    spam: int
    flagged: int


class QueuePage(SQLModel):
    items: list[CommentForModerator]
    next_cursor: str | None
    counts: QueueCounts


class BulkResult(SQLModel):
    items: list[CommentForModerator]


class RevealedEmail(SQLModel):
    comment_id: int
    email: str
