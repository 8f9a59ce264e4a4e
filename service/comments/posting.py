"""Posting a new comment: what the route does, and the same on the event loop.

``create`` is the route's work (on a request thread). ``create_on_loop`` does the same work
for SQLite without the thread hops: the checks, rendering and hashing run on the event loop
on its own read connection (``Database.loop_read``; a few local reads, no network), and the
loop then writes it with the others of its batch (``GroupCommit.submit_on_loop``). A post costs
three threads otherwise (loop, request thread, group-commit thread) and each hand-over costs a
wake-up and a turn at the interpreter lock; this way it costs none.

``create_on_loop_postgres`` does it for PostgreSQL: the same synchronous code runs in a
greenlet on the loop over an asynchronous connection (service.pgloop), so each of its round
trips waits on the loop instead of blocking it. Its reads run in autocommit mode (the write
re-checks what matters), then the write transaction runs between its own ``BEGIN`` and
``COMMIT``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from typing import Any

from sqlmodel import Session

from service.comments import spamcheck, writing
from service.comments.inputs import CommentCreate
from service.comments.models import CommentCreated
from service.comments.store import Sql
from service.comments.writing import WriteContext
from service.observability import COMMENTS
from service.pgloop import run_blocking_code
from service.sites.models import Site
from service.sites.policy import site_policy
from service.state import AppState


def spam_check(
    state: AppState, site: Site, session: Session | Sql | None = None
) -> writing.SpamCheckFactory:
    """The learned filter's verdict, computed outside the write transaction."""

    def check(author_name: str, website: str | None, body: str) -> spamcheck.FixedVerdict:
        assert site.id is not None
        return spamcheck.assess(
            state.learner,
            state.db,
            site_id=site.id,
            policy=site_policy(site),
            body=body,
            author_name=author_name,
            website=website,
            budget_seconds=state.settings.spam_budget_ms / 1000,
            session=session,
        )

    return check


def create(
    state: AppState, site: Site, data: CommentCreate, reader: Session, ctx: WriteContext
) -> CommentCreated:
    """Store a new comment (blocking: on a request thread). Answers once committed."""
    check = spam_check(state, site, reader)(data.author_name, data.website, data.body)
    submit = functools.partial(
        writing.submit, site=site, data=data, vault=state.vault, ctx=ctx, extra_checks=[check]
    )
    if state.committer is not None:  # SQLite: the group commit writes on its own connection
        created = submit(None, reader=reader, committer=state.committer)
    else:
        with state.db.write() as session:
            created = submit(session, reader=reader)
    COMMENTS.labels(created.status).inc()
    return created


async def create_on_loop(
    state: AppState, site: Site, data: CommentCreate, ctx: WriteContext
) -> CommentCreated:
    """``create`` for SQLite, run on the event loop (see the module's docstring)."""
    assert state.committer is not None, "SQLite only"
    with state.db.loop_read() as connection:
        reader = Sql.on_sqlite(connection)
        check = spam_check(state, site, reader)(data.author_name, data.website, data.body)
        write = writing.prepare_batch_write(
            reader, site=site, data=data, vault=state.vault, ctx=ctx, extra_checks=[check]
        )
    # Shielded: a client that goes away must not cancel a write already queued (the route's
    # thread would finish it too); its answer is simply not delivered.
    created = await asyncio.shield(state.committer.submit_on_loop(write))
    COMMENTS.labels(created.status).inc()
    return created


async def create_on_loop_postgres(
    state: AppState, site: Site, data: CommentCreate, ctx: WriteContext
) -> CommentCreated:
    """``create`` for PostgreSQL, run on the event loop (see the module's docstring)."""
    assert state.db.loop_reads is not None, "PostgreSQL only"
    async with state.db.loop_reads.connection() as connection:
        created = await run_blocking_code(_create_on, connection, state, site, data, ctx)
    COMMENTS.labels(created.status).inc()
    return created


def _create_on(
    connection: Any, state: AppState, site: Site, data: CommentCreate, ctx: WriteContext
) -> CommentCreated:
    sql = Sql.on_loop_postgres(connection)
    check = spam_check(state, site, sql)(data.author_name, data.website, data.body)
    write = writing.prepare_batch_write(
        sql, site=site, data=data, vault=state.vault, ctx=ctx, extra_checks=[check]
    )
    sql.run("BEGIN", {})
    try:
        created = write(sql)
        sql.commit_on_loop()
    except BaseException:
        # A refusal (409, 429...) keeps the connection for the next post; if the rollback
        # fails too, the pool closes the connection, and the server rolls back.
        with contextlib.suppress(Exception):
            sql.run("ROLLBACK", {})
        raise
    return created
