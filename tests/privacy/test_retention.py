"""P-RET-1: with an injected clock, IP data, removed comments and idempotency records expire."""

from __future__ import annotations

import time
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import select

from service.app import create_app
from service.comments.models import Comment, IdempotencyRecord
from service.db import Database
from service.privacy.retention import RetentionPolicy, purge
from service.review.models import ModerationEvent
from service.settings import Settings
from tests.conftest import FrozenClock
from tests.factories import auth, decide, make_moderator, make_site, post_comment
from tests.privacy.helpers import ip_client, raw_dump

POLICY = RetentionPolicy(
    ip=timedelta(days=30), removed=timedelta(days=90), idempotency=timedelta(hours=24)
)


def test_ip_data_expires_after_the_retention_period(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    make_site(db)
    comment_id = post_comment(ip_client(client), body="from an address").json()["id"]
    with db.read() as session:
        row = session.get(Comment, comment_id)
        assert row is not None and row.ip_prefix == "203.0.113.0/24" and row.ip_hash
        ip_hash = row.ip_hash
    clock.advance(days=29, hours=23)
    assert purge(db, POLICY, clock()).ips_cleared == 0
    clock.advance(hours=2)
    report = purge(db, POLICY, clock())
    assert report.ips_cleared == 1
    with db.read() as session:
        row = session.get(Comment, comment_id)
        assert row is not None
        assert (row.ip_prefix, row.ip_hash, row.ip_expires_at) == (None, None, None)
        assert row.body == "from an address"  # only the IP data goes
        events = session.exec(
            select(ModerationEvent).where(ModerationEvent.action == "retention_purge")
        ).all()
    assert [e.details["ips_cleared"] for e in events] == [1]
    raw = raw_dump(db)
    assert b"203.0.113.0/24" not in raw and ip_hash.encode() not in raw
    assert purge(db, POLICY, clock()).ips_cleared == 0  # idempotent


def test_rejected_and_spam_comments_are_purged(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    make_site(db)
    token = make_moderator(db, "news")
    keep = post_comment(client, body="a fine comment").json()["id"]
    spam = post_comment(client, body="buy cheap watches now").json()["id"]
    rejected = post_comment(client, body="off topic rant").json()["id"]
    parent = post_comment(client, body="later removed, but answered").json()["id"]
    answer = post_comment(client, email="b@example.org", body="an answer", parent_id=parent).json()[
        "id"
    ]
    assert decide(client, token, spam, "spam", "advert").status_code == 200
    assert decide(client, token, rejected, "reject", "off topic").status_code == 200
    assert decide(client, token, parent, "reject", "insulting").status_code == 200
    clock.advance(days=89)
    assert purge(db, POLICY, clock()).comments_deleted == 0
    clock.advance(days=2)
    report = purge(db, POLICY, clock())
    assert (report.comments_deleted, report.comments_emptied) == (2, 1)
    with db.read() as session:
        assert session.get(Comment, spam) is None and session.get(Comment, rejected) is None
        kept_parent = session.get(Comment, parent)
        assert (
            kept_parent is not None
            and kept_parent.body == ""
            and kept_parent.email_ciphertext is None
        )
        assert session.get(Comment, keep) is not None and session.get(Comment, answer) is not None
    raw = raw_dump(db)
    for text in (b"buy cheap watches", b"off topic rant", b"later removed, but answered"):
        assert text not in raw
    assert b"a fine comment" in raw
    # The moderator's log keeps the decisions (ids and reasons, no text).
    events = client.get(
        "/api/v1/moderation/events", params={"site": "news"}, headers=auth(token)
    ).json()
    assert any(e["action"] == "spam" for e in events["items"])


def test_idempotency_records_expire(client: TestClient, db: Database, clock: FrozenClock) -> None:
    make_site(db)
    post_comment(client, headers={"Idempotency-Key": "k1"})
    clock.advance(hours=23)
    assert purge(db, POLICY, clock()).idempotency_deleted == 0
    clock.advance(hours=2)
    assert purge(db, POLICY, clock()).idempotency_deleted == 1
    with db.read() as session:
        assert session.exec(select(IdempotencyRecord)).all() == []


def test_the_server_runs_the_purge_on_a_schedule(
    database_url: str, tmp_path: object, clock: FrozenClock
) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    settings = Settings(
        database_url=database_url, key_file=tmp_path / "keys.json", purge_interval_seconds=1
    )
    app = create_app(settings, clock=clock)
    with TestClient(app, base_url="http://margin.test") as client:
        db: Database = app.state.margin.db
        make_site(db)
        comment_id = post_comment(ip_client(client)).json()["id"]
        clock.advance(days=31)
        scheduler = app.state.retention
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with db.read() as session:
                row = session.get(Comment, comment_id)
                assert row is not None
                if row.ip_prefix is None:
                    break
            time.sleep(0.2)
        assert row.ip_prefix is None and scheduler.runs >= 1
    assert not scheduler._thread.is_alive()  # stopped with the app
    app.state.margin.db.dispose()
