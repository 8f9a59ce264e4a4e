"""The widget's public API: thin handlers over comments.reading and comments.writing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import StringConstraints

from service.apidocs.errors import errors_doc
from service.bounded import CursorQuery, PathId, Plain, QueryId
from service.comments import flagging, pages, posting, reading, rendering, writing
from service.comments.flagging import FlagReceipt, FlagRequest
from service.comments.formtoken import issue as issue_form_token
from service.comments.inputs import LIMITS, CommentCreate, CommentEdit, PreviewRequest
from service.comments.models import CommentCounts, CommentCreated, OwnComment, Preview, ThreadPage
from service.comments.reading import Sort
from service.deps import (
    CurrentSite,
    EditToken,
    ReadSession,
    SiteSlug,
    StateDep,
    WriteCtx,
    WriteSession,
    WriteSite,
    state_of,
)
from service.sites.models import SitePublic
from service.sites.service import public_config

router = APIRouter(prefix="/api/v1/sites/{site}", tags=["public"])

ThreadKey = Annotated[Plain, Query(min_length=1, max_length=LIMITS["thread"])]
ThreadKeyItem = Annotated[Plain, StringConstraints(min_length=1, max_length=LIMITS["thread"])]


@router.get("/config")
def site_config(site: CurrentSite, state: StateDep) -> SitePublic:
    """The site's public settings: limits the widget validates against, edit window, mode."""
    return public_config(
        site,
        edit_window_seconds=state.settings.edit_window_seconds,
        max_body_chars=state.settings.max_body_chars,
    )


@router.get("/comments", response_model=ThreadPage)
async def list_comments(
    request: Request,
    site: SiteSlug,
    thread: ThreadKey,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: CursorQuery = None,
    sort: Sort = Sort.OLDEST,
    root: QueryId = None,
) -> Response:
    """Published comments of one article, a page of top-level comments with their replies.
    Answers carry an ETag (304 when unchanged) and may be cached briefly by CDNs."""
    # Async on purpose: a page nothing has changed since is answered on the event loop (no
    # thread hop, no query); anything else takes one trip to the thread pool.
    state = state_of(request)
    params = (thread, limit, cursor, sort.value, root)
    state.pages.learn(site, request.scope["query_string"], params)
    return await pages.answer(state, site, params, request.headers.get("if-none-match", ""))


@router.post(
    "/comments",
    status_code=status.HTTP_201_CREATED,
    response_model=CommentCreated,
    responses=errors_doc(409, 429),
)
def create_comment(
    site: WriteSite,
    data: CommentCreate,
    reader: ReadSession,
    state: StateDep,
    ctx: WriteCtx,
) -> Response:
    """Leave a reply. Answers only after the comment is committed; the email is never shown."""
    # A plain def on purpose: FastAPI runs it on a request thread, so the checks, moderation,
    # spam scoring and rendering of the text never run on the event loop (posting.py).
    created = posting.create(state, site, data, reader, ctx)
    return created_response(created)


def created_response(created: CommentCreated) -> Response:
    # Serialised here from the model the service built, rather than validated once more
    # against the response model (the documented schema) by FastAPI.
    return Response(
        created.model_dump_json(),
        status_code=status.HTTP_201_CREATED,
        media_type="application/json",
    )


@router.get("/comments/{comment_id}/own")
def own_comment(
    site: CurrentSite, comment_id: PathId, token: EditToken, session: ReadSession, ctx: WriteCtx
) -> OwnComment:
    """The author's view of their comment: status and the reason, through the edit token."""
    return writing.read_own(session, site, comment_id, token, ctx)


@router.patch("/comments/{comment_id}", responses=errors_doc(409))
def edit_comment(
    site: WriteSite,
    comment_id: PathId,
    data: CommentEdit,
    token: EditToken,
    session: WriteSession,
    state: StateDep,
    ctx: WriteCtx,
) -> OwnComment:
    """Edit one's own comment within the edit window."""
    return writing.edit(
        session,
        site=site,
        comment_id=comment_id,
        token=token,
        data=data,
        ctx=ctx,
        spam_check=posting.spam_check(state, site),
    )


@router.delete("/comments/{comment_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_comment(
    site: WriteSite, comment_id: PathId, token: EditToken, session: WriteSession, ctx: WriteCtx
) -> Response:
    """Delete one's own comment within the edit window."""
    writing.delete(session, site=site, comment_id=comment_id, token=token, ctx=ctx)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/counts")
def comment_counts(
    site: CurrentSite,
    session: ReadSession,
    thread: Annotated[list[ThreadKeyItem], Query(min_length=1, max_length=100)],
) -> CommentCounts:
    """Published-comment counts for up to 100 articles."""
    return reading.counts(session, site, thread)


@router.post("/preview")
def preview(site: WriteSite, data: PreviewRequest) -> Preview:
    """The exact HTML a comment body would be published as."""
    del site
    return Preview(html=rendering.render(data.body))


@router.get("/form-token")
def form_token(site: CurrentSite, thread: ThreadKey, state: StateDep) -> dict[str, str]:
    """A signed token recording when the comment form was rendered."""
    now = state.clock().timestamp()
    return {"token": issue_form_token(state.vault.keyring.signing_key, site.slug, thread, now)}


@router.post("/comments/{comment_id}/flags", status_code=status.HTTP_202_ACCEPTED)
def flag_comment(
    site: WriteSite,
    comment_id: PathId,
    data: FlagRequest,
    session: WriteSession,
    state: StateDep,
    ctx: WriteCtx,
) -> FlagReceipt:
    """Report a published comment. Reports ask moderators to look; they never hide it."""
    return flagging.flag(
        session,
        site=site,
        comment_id=comment_id,
        request=data,
        vault=state.vault,
        client_ip=ctx.client_ip,
        now=ctx.now,
    )
