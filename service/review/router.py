"""The moderator API: thin handlers over review.service. Never cached, never cross-origin."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from service.apidocs.errors import errors_doc
from service.bounded import CursorQuery, PathId, Plain, SlugPath
from service.comments.models import CommentStatus
from service.deps import (
    SLUG_MAX_LENGTH,
    SLUG_PATTERN,
    CurrentModerator,
    ReadSession,
    StateDep,
    WriteSession,
)
from service.observability import DECISIONS
from service.review import policy, service
from service.review.inputs import (
    BulkDecisionRequest,
    BulkResult,
    CommentForModerator,
    DecisionRequest,
    QueuePage,
    RevealedEmail,
    RevealRequest,
)
from service.review.policy import ModelReset, PolicyChange, PolicyTrial, PolicyView, TrialReport

router = APIRouter(prefix="/api/v1/moderation", tags=["moderation"])

# Optional: a moderator of exactly one site need not name it.
OptionalSlugQuery = Annotated[
    str | None, Query(min_length=1, max_length=SLUG_MAX_LENGTH, pattern=SLUG_PATTERN)
]


@router.get("/comments")
def review_queue(
    moderator: CurrentModerator,
    session: ReadSession,
    site: OptionalSlugQuery = None,
    status: CommentStatus | None = None,
    thread: Annotated[Plain | None, Query(max_length=512)] = None,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    flagged: bool = False,
) -> QueuePage:
    """Comments of one of your sites, each with its reasons and ``queue``, and ``counts``:
    how many are pending, in the spam folder and flagged by readers.

    Without ``status``: the review queue, pending comments (oldest first) then the spam
    folder (newest first); approving one from the spam folder publishes it and teaches the
    site's spam filter. ``status=...`` lists one status; ``flagged=true`` the comments
    readers reported often enough to need a look. ``site`` may be left out by a moderator
    of one site."""
    return service.queue(
        session,
        moderator,
        site_slug=site,
        status=status,
        thread_key=thread,
        cursor=cursor,
        limit=limit,
        flagged=flagged,
    )


@router.post("/comments/{comment_id}/decision")
def decide(
    moderator: CurrentModerator,
    comment_id: PathId,
    request: DecisionRequest,
    session: WriteSession,
    state: StateDep,
) -> CommentForModerator:
    """Approve, reject, mark as spam or delete one comment, with a reason."""
    item = service.decide(session, moderator, comment_id, request, state.clock(), state.learner)
    DECISIONS.labels(request.action.value).inc()
    return item


@router.post("/decisions", responses=errors_doc(404))
def decide_bulk(
    moderator: CurrentModerator,
    request: BulkDecisionRequest,
    session: WriteSession,
    state: StateDep,
) -> BulkResult:
    """The same decision for many comments at once; all or nothing."""
    items = service.decide_bulk(session, moderator, request, state.clock(), state.learner)
    DECISIONS.labels(request.action.value).inc(len(items))
    return BulkResult(items=items)


@router.post("/comments/{comment_id}/reveal-email", responses=errors_doc(403))
def reveal_email(
    moderator: CurrentModerator,
    comment_id: PathId,
    request: RevealRequest,
    session: WriteSession,
    state: StateDep,
) -> RevealedEmail:
    """Show a commenter's email to a moderator with the PII scope; the purpose is recorded."""
    return service.reveal_email(session, moderator, state.vault, comment_id, request, state.clock())


@router.get("/events")
def events(
    moderator: CurrentModerator,
    session: ReadSession,
    site: OptionalSlugQuery = None,
    cursor: CursorQuery = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    """The moderation event log of one of your sites, newest first."""
    items, next_cursor = service.list_events(
        session, moderator, site_slug=site, cursor=cursor, limit=limit
    )
    return {"items": [i.model_dump(mode="json") for i in items], "next_cursor": next_cursor}


@router.get("/sites/{site}/policy")
def get_policy(moderator: CurrentModerator, session: ReadSession, site: SlugPath) -> PolicyView:
    """The site's moderation policy, with every setting spelled out."""
    return policy.read_policy(session, moderator, site)


@router.put("/sites/{site}/policy")
def put_policy(
    moderator: CurrentModerator,
    site: SlugPath,
    change: PolicyChange,
    session: WriteSession,
    state: StateDep,
) -> PolicyView:
    """Replace the site's policy (validated; the change and its reason are logged)."""
    view = policy.change_policy(session, moderator, site, change, state.clock())
    state.sites.forget(site)
    return view


@router.post("/sites/{site}/policy/trial")
def try_policy(
    moderator: CurrentModerator, site: SlugPath, request: PolicyTrial, session: ReadSession
) -> TrialReport:
    """What a proposed policy would have done to recent comments, per check, without acting."""
    return policy.trial(session, moderator, site, request)


@router.post("/sites/{site}/spam-model/reset")
def reset_spam_model(
    moderator: CurrentModerator,
    site: SlugPath,
    request: ModelReset,
    session: WriteSession,
    state: StateDep,
) -> dict[str, str]:
    """Undo everything the site's moderators taught the spam filter (logged, with a reason)."""
    return policy.reset_spam_model(session, moderator, site, request, state.learner, state.clock())
