"""Tuning a site's moderation without a deploy: read, change (logged) and try out a policy."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlmodel import Session, col, select

from service import moderation
from service.comments.models import Comment, CommentStatus
from service.errors import Invalid
from service.moderators.service import Principal
from service.review.events import append_event
from service.review.learning import SpamLearner
from service.review.models import Actor
from service.review.service import site_for
from service.sites.policy import site_policy
from service.textcheck import multi_line, refuse_controls

MAX_POLICY_DEPTH = 8  # the deepest policy setting is rate_limits.<scope>.limit


def _plain_policy(value: dict[str, Any]) -> dict[str, Any]:
    """Every text of a policy (keys and values, at any depth) is plain: no control
    characters, lone surrogates or bidi controls. Checked at the boundary, before anything is
    parsed, stored or logged: a lone surrogate in a word once reached the database and the
    event log, and every page showing it answered 500."""
    pending: list[tuple[str, object, int]] = [("policy", value, 0)]
    while pending:
        where, item, depth = pending.pop()
        if depth > MAX_POLICY_DEPTH:
            raise ValueError(f"{where} is nested too deeply")
        if isinstance(item, str):
            _plain_text(where, item)
        elif isinstance(item, dict):
            for key, child in item.items():
                _plain_text(f"{where} key {key!r}", str(key))
                pending.append((f"{where}.{key}", child, depth + 1))
        elif isinstance(item, list):
            pending.extend((f"{where}[{i}]", child, depth + 1) for i, child in enumerate(item))
    return value


def _plain_text(where: str, text: str) -> None:
    try:
        refuse_controls(text)
    except ValueError as exc:
        # ascii(): the message itself must be answerable, whatever the text held.
        raise ValueError(f"{where!a} {exc}") from None


def _reason(value: str) -> str:
    value = multi_line(value, "reason").strip()
    if not value:
        raise ValueError("a reason is required: say why, in plain words")
    return value


class PolicyChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    policy: dict[str, Any]
    reason: str = Field(min_length=1, max_length=1000)

    _check_policy = field_validator("policy")(_plain_policy)
    _check_reason = field_validator("reason")(_reason)


class PolicyTrial(BaseModel):
    model_config = ConfigDict(extra="forbid")

    policy: dict[str, Any]
    limit: int = Field(default=200, ge=1, le=2000)

    _check_policy = field_validator("policy")(_plain_policy)


class PolicyView(BaseModel):
    site: str
    policy: dict[str, Any]


class CheckHits(BaseModel):
    hits: int = 0
    on_published: int = 0
    on_removed: int = 0
    on_pending: int = 0
    examples: list[int] = Field(default_factory=list)


class TrialReport(BaseModel):
    evaluated: int
    would_change: int
    checks: dict[str, CheckHits]


def parse_policy(data: dict[str, Any]) -> moderation.Policy:
    try:
        return moderation.Policy.from_dict(data)
    except moderation.PolicyError as exc:
        raise Invalid(f"policy.{exc.field}", exc.message) from exc


def read_policy(session: Session, principal: Principal, slug: str) -> PolicyView:
    site = site_for(session, principal, slug)
    return PolicyView(site=site.slug, policy=site_policy(site).to_dict())


def change_policy(
    session: Session, principal: Principal, slug: str, change: PolicyChange, now: datetime
) -> PolicyView:
    site = site_for(session, principal, slug)
    assert site.id is not None
    reason = multi_line(change.reason, "reason").strip()
    if not reason:
        raise Invalid("reason", "a reason is required: say why, in plain words")
    before = site_policy(site).to_dict()
    after = parse_policy(change.policy).to_dict()
    site.policy = after
    session.add(site)
    append_event(
        session,
        site_id=site.id,
        actor=Actor.MODERATOR,
        moderator_id=principal.moderator_id,
        action="policy_change",
        at=now,
        reason=reason,
        details={"before": before, "after": after},
    )
    session.commit()
    return PolicyView(site=site.slug, policy=after)


_DECIDED = {
    CommentStatus.APPROVED.value: "on_published",
    CommentStatus.REJECTED.value: "on_removed",
    CommentStatus.SPAM.value: "on_removed",
    CommentStatus.DELETED.value: "on_removed",
    CommentStatus.PENDING.value: "on_pending",
}
_STATUS_OF = {
    moderation.Action.APPROVE: CommentStatus.APPROVED.value,
    moderation.Action.HOLD: CommentStatus.PENDING.value,
    moderation.Action.SPAM: CommentStatus.SPAM.value,
    moderation.Action.REJECT: CommentStatus.REJECTED.value,
}


def trial(session: Session, principal: Principal, slug: str, request: PolicyTrial) -> TrialReport:
    """Run a proposed policy over the site's most recent comments and count, per check, how
    many it would hit and what moderators actually did with those comments. Dry-run checks
    count as hits here: this is how a moderator sees a rule's false positives before turning
    it on. Form timing is not replayed (the form is long gone)."""
    site = site_for(session, principal, slug)
    policy = parse_policy(request.policy)
    rows = session.exec(
        select(Comment)
        .where(Comment.site_id == site.id)
        .order_by(col(Comment.id).desc())
        .limit(request.limit)
    ).all()
    checks: dict[str, CheckHits] = {}
    would_change = 0
    history = _histories(rows)
    for row in rows:
        assert row.id is not None
        decision = moderation.moderate(
            moderation.Submission(
                body=row.body,
                author_name=row.author_name,
                website=row.website,
                is_reply=row.parent_id is not None,
                form_rendered_at=(row.created_at - timedelta(minutes=5)).timestamp(),
                is_edit=True,
            ),
            moderation.Facts(now=row.created_at.timestamp(), history=history[row.id]),
            policy,
        )
        if _STATUS_OF[decision.action] != row.status:
            would_change += 1
        for verdict in decision.verdicts:
            if verdict.action is moderation.Action.APPROVE:
                continue
            hits = checks.setdefault(verdict.check, CheckHits())
            hits.hits += 1
            bucket = _DECIDED.get(row.status)
            if bucket:
                setattr(hits, bucket, getattr(hits, bucket) + 1)
            if len(hits.examples) < 5:
                hits.examples.append(row.id)
    return TrialReport(evaluated=len(rows), would_change=would_change, checks=checks)


def _histories(rows: list[Comment] | Any) -> dict[int, moderation.AuthorHistory]:
    """Each comment's author history as it stood before that comment, from the rows at hand."""
    ordered = sorted(rows, key=lambda r: r.id or 0)
    seen: dict[tuple[str | None, str], Counter[str]] = {}
    out: dict[int, moderation.AuthorHistory] = {}
    for row in ordered:
        counts = seen.setdefault((row.email_lookup, row.author_name), Counter())
        assert row.id is not None
        out[row.id] = moderation.AuthorHistory(
            approved=counts[CommentStatus.APPROVED.value],
            rejected=counts[CommentStatus.REJECTED.value],
            spam=counts[CommentStatus.SPAM.value],
            pending=counts[CommentStatus.PENDING.value],
        )
        counts[row.status] += 1
    return out


class ModelReset(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=1000)

    _check_reason = field_validator("reason")(_reason)


def reset_spam_model(
    session: Session,
    principal: Principal,
    slug: str,
    request: ModelReset,
    learner: SpamLearner | None,
    now: datetime,
) -> dict[str, str]:
    """Forget everything the site's moderators taught the spam filter (back to the shipped
    model). Logged like any rule change."""
    site = site_for(session, principal, slug)
    assert site.id is not None
    reason = multi_line(request.reason, "reason").strip()
    if not reason:
        raise Invalid("reason", "a reason is required: say why, in plain words")
    if learner is None:
        raise Invalid("site", "the spam filter is disabled on this server")
    learner.reset(session, site_id=site.id, at=now)
    append_event(
        session,
        site_id=site.id,
        actor=Actor.MODERATOR,
        moderator_id=principal.moderator_id,
        action="spam_model_reset",
        at=now,
        reason=reason,
    )
    session.commit()
    return {"site": site.slug, "spam_model": "reset to the shipped model"}
