"""Concurrent posts from several worker processes: distinct ids, none lost, one unbroken event
chain (both databases)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlmodel import col, select

from service.db import Database
from service.migrate import upgrade
from service.review.events import verify_chain
from service.review.models import ModerationEvent
from tests.factories import OPEN_POLICY, ORIGIN, comment_payload, make_site
from tests.live import live_server, run_async

POSTS = 120


async def _burst(base: str) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=24)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        tasks = [
            client.post(
                "/api/v1/sites/news/comments",
                json=comment_payload(
                    body=f"concurrent comment {i}", email=f"c{i}@example.org", thread=f"t{i % 7}"
                ),
                headers={"Origin": ORIGIN},
            )
            for i in range(POSTS)
        ]
        return list(await asyncio.gather(*tasks))


@pytest.mark.slow
def test_two_workers_lose_nothing(database_url: str, tmp_path: Path) -> None:
    upgrade(database_url)
    database = Database(database_url)
    make_site(database, policy=dict(OPEN_POLICY))
    database.dispose()
    with live_server(database_url, tmp_path / "keys.json", workers=2) as base:
        responses = run_async(lambda: _burst(base))
    assert [r.status_code for r in responses] == [201] * POSTS, {r.status_code for r in responses}
    ids = [r.json()["id"] for r in responses]
    assert len(set(ids)) == POSTS
    engine = create_engine(database_url)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT count(*) FROM comments")).scalar_one()
        total = conn.execute(text("SELECT sum(approved_count) FROM threads")).scalar_one()
    engine.dispose()
    approved = sum(r.json()["status"] == "approved" for r in responses)
    assert stored == POSTS
    assert total == approved
    # S-AUDIT-1: the workers appended to the site's event chain one at a time; no two events
    # link to the same predecessor.
    database = Database(database_url)
    with database.read() as session:
        events = session.exec(select(ModerationEvent).order_by(col(ModerationEvent.id))).all()
    database.dispose()
    assert len(events) == POSTS
    assert verify_chain(events) == []
    assert len({event.prev_hash for event in events}) == POSTS
