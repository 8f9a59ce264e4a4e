"""Flood limits shared by every worker: recent submissions are rows in ``rate_events``.

The pure core decides from counts (``moderation.rate_limit_verdict``); this module gathers them.
Keys are keyed hashes (IP prefix, email look-up, thread id), never the raw values.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, col

from service import moderation
from service.comments.models import RateEvent
from service.comments.store import Sql
from service.errors import RateLimited

# Rows older than this are of no use to any window a policy may set (7 days max).
RATE_EVENT_MAX_AGE = timedelta(days=7)


def check(
    sql: Sql,
    *,
    site_id: int,
    policy: moderation.Policy,
    keys: dict[str, str | None],
    now: datetime,
    lock: bool = False,
) -> None:
    """Raise RateLimited (429) when any scope is over its limit; record nothing. Posting
    runs it first, before any costly work on the comment (a flooded post costs a few indexed
    reads), and ``enforce`` runs it again inside the write transaction. ``lock``: on
    PostgreSQL, take each key's advisory lock first (only inside the write transaction)."""
    counts: dict[str, tuple[int, float | None]] = {}
    for limit in policy.rate_limits:
        key = keys.get(limit.scope)
        if key is None:
            continue
        if lock and sql.postgres:
            # Two workers checking the same key must not both see room for one more.
            sql.run(
                "SELECT pg_advisory_xact_lock(hashtext(:k))",
                {"k": f"rate:{site_id}:{limit.scope}:{key}"},
            )
        row = sql.one(
            "SELECT count(*), min(at) FROM rate_events WHERE site_id = :site AND scope = :scope"
            " AND key = :key AND at > :since",
            {
                "site": site_id,
                "scope": limit.scope,
                "key": key,
                "since": sql.when(now - timedelta(seconds=limit.window_seconds)),
            },
        )
        count, oldest = row if row is not None else (0, None)
        counts[limit.scope] = (int(count), sql.read_when(oldest).timestamp() if oldest else None)
    exceeded = moderation.rate_limit_verdict(counts, policy.rate_limits, now.timestamp())
    if exceeded is not None:
        raise RateLimited(exceeded.message, exceeded.retry_after)


def enforce(
    sql: Sql,
    *,
    site_id: int,
    policy: moderation.Policy,
    keys: dict[str, str | None],
    now: datetime,
) -> None:
    """Raise RateLimited (429) when any scope is over its limit; otherwise record this
    submission in every limited scope. Runs inside the comment's transaction, so a refused or failed
    submission is not counted. Plain SQL: it is on the comment write path
    (service.comments.store)."""
    check(sql, site_id=site_id, policy=policy, keys=keys, now=now, lock=True)
    # Only the scopes the policy limits are recorded: a keyed hash that no rule reads is not
    # kept (data minimisation), and each row is a random insert into the (site, scope, key,
    # at) index, the most written pages of a post (docs/performance.md, "Writes"). A limit
    # switched on later therefore starts with an empty window.
    limited = [
        (scope, key)
        for scope, key in keys.items()
        if key is not None and policy.rate_limit(scope) is not None
    ]
    if not limited:
        return
    params: dict[str, object] = {"site": site_id, "at": sql.when(now)}
    rows = []
    for i, (scope, key) in enumerate(limited):
        params[f"scope{i}"], params[f"key{i}"] = scope, key
        rows.append(f"(:site, :scope{i}, :key{i}, :at)")
    # One statement for every scope (only generated placeholder names are interpolated).
    sql.run(
        "INSERT INTO rate_events (site_id, scope, key, at) VALUES " + ", ".join(rows),  # noqa: S608
        params,
    )


def purge_old(session: Session, now: datetime) -> int:
    result = session.execute(delete(RateEvent).where(col(RateEvent.at) < now - RATE_EVENT_MAX_AGE))
    return int(getattr(result, "rowcount", 0) or 0)
