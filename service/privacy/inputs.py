"""What clients may send to the privacy endpoints, and the shapes they get back."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlmodel import SQLModel

from service import textcheck
from service.bounded import DbId
from service.privacy.models import AccessEntry
from service.review.inputs import RevealCategory


def _text(value: str) -> str:
    value = textcheck.multi_line(value, "purpose").strip()
    if not value:
        raise ValueError("say why, in plain words")
    return value


class OwnedComment(BaseModel):
    """Proof of authorship: a comment id and the edit token returned when it was posted."""

    model_config = ConfigDict(extra="forbid")

    comment_id: DbId
    # Edit tokens are URL-safe base64 (secrets.token_urlsafe); anything else matches nothing,
    # and a lone surrogate could not even be hashed.
    edit_token: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_=-]+$")


class SelfServiceRequest(BaseModel):
    """A reader's own request: the comments whose edit tokens the widget kept."""

    model_config = ConfigDict(extra="forbid")

    comments: list[OwnedComment] = Field(min_length=1, max_length=500)


class SubjectRequest(BaseModel):
    """A moderator acting on a reader's request, found by the email the reader gave."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=254)
    site: str | None = Field(default=None, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")
    purpose: str = Field(min_length=10, max_length=1000)
    category: RevealCategory = RevealCategory.SUBJECT_REQUEST

    _check_purpose = field_validator("purpose")(_text)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        textcheck.refuse_controls(value)
        return textcheck.email_address(value)


class RevealIpRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purpose: str = Field(min_length=10, max_length=1000)
    category: RevealCategory

    _check_purpose = field_validator("purpose")(_text)


class RevealedIp(SQLModel):
    comment_id: int
    ip_prefix: str | None
    # Other comments of the same site sent from the same address (keyed hash match), while
    # the hashes are still held (see the IP retention period).
    same_address_comment_ids: list[int]


class ExportedEvent(SQLModel):
    action: str
    actor: str
    from_status: str | None
    to_status: str | None
    reason: str
    created_at: datetime


class ExportedComment(SQLModel):
    id: int
    site: str
    thread_key: str
    thread_title: str
    thread_url: str | None
    parent_id: int | None
    author_name: str
    email: str | None
    website: str | None
    body: str
    status: str
    reason: str
    created_at: datetime
    edited_at: datetime | None
    status_changed_at: datetime
    ip_prefix: str | None
    ip_hash_held: bool
    ip_expires_at: datetime | None
    email_lookup_hash_held: bool
    history: list[ExportedEvent]


class SubjectExport(SQLModel):
    generated_at: datetime
    requested_by: str
    comments: list[ExportedComment]
    access_register: list[AccessEntry]
    notes: list[str]


class ErasureReport(SQLModel):
    comments: int
    anonymised: int
    deleted: int
    rows_removed: int
    sites: list[str]
