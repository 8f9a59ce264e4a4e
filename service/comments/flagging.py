"""Reader reports. A report never hides or deletes anything: enough of them only ask a
moderator to look again (the comment stays published meanwhile)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from service import moderation
from service.comments.models import Comment, CommentFlag, CommentStatus
from service.comments.reading import get_comment
from service.errors import Invalid
from service.privacy.crypto import Vault, ip_prefix
from service.review.events import append_event
from service.review.models import Actor
from service.sites.models import Site
from service.sites.policy import site_policy
from service.textcheck import multi_line


class FlagCategory(StrEnum):
    SPAM = "spam"
    ABUSE = "abuse"
    OFF_TOPIC = "off_topic"
    ILLEGAL = "illegal"
    PERSONAL_DATA = "personal_data"
    OTHER = "other"


class FlagRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: FlagCategory
    note: str = Field(default="", max_length=500)

    # Checked here, at the boundary (422 naming the field); the same check in flag() raised
    # ValueError in the handler, a 500.
    @field_validator("note")
    @classmethod
    def _note(cls, value: str) -> str:
        return multi_line(value, "note")


class FlagReceipt(BaseModel):
    received: bool = True
    message: str = "Thank you. A moderator will look at this comment if other readers agree."


def flag(
    session: Session,
    *,
    site: Site,
    comment_id: int,
    request: FlagRequest,
    vault: Vault,
    client_ip: str | None,
    now: datetime,
) -> FlagReceipt:
    comment = get_comment(session, site, comment_id)
    if comment.status != CommentStatus.APPROVED:
        raise Invalid("comment_id", "only published comments can be reported")
    assert comment.id is not None and site.id is not None
    note = multi_line(request.note, "note").strip()
    # One report per network (/24 for IPv4, /48 for IPv6, as the flood limits count), not per
    # address: three addresses of one subnet (one household, one office, one cloud range)
    # count once. Requests without an address share one reporter: they cannot brigade.
    network = ip_prefix(client_ip) or "unknown"
    reporter = vault.derived("flag", f"{site.id}:{comment.id}:{network}")
    session.add(
        CommentFlag(
            site_id=site.id,
            comment_id=comment.id,
            category=request.category.value,
            note=note,
            reporter_key=reporter,
            created_at=now,
        )
    )
    try:
        session.flush()
    except IntegrityError:
        # One report per reader per comment; a repeat changes nothing and says the same.
        session.rollback()
        return FlagReceipt()
    session.execute(
        update(Comment)
        .where(col(Comment.id) == comment.id)
        .values(flag_count=col(Comment.flag_count) + 1)
    )
    session.refresh(comment)
    if (
        moderation.flag_verdict(comment.flag_count, site_policy(site))
        and not comment.review_requested
    ):
        comment.review_requested = True
        append_event(
            session,
            site_id=site.id,
            comment_id=comment.id,
            actor=Actor.READER,
            action="review_requested",
            at=now,
            from_status=comment.status,
            to_status=comment.status,
            reason=f"{comment.flag_count} readers reported this comment",
            details={"categories": _categories(session, comment.id)},
        )
    session.commit()
    return FlagReceipt()


def _categories(session: Session, comment_id: int) -> dict[str, int]:
    rows = session.exec(
        select(CommentFlag.category, func.count())
        .where(CommentFlag.comment_id == comment_id)
        .group_by(CommentFlag.category)
    ).all()
    return dict(rows)
