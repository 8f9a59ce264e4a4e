"""P-ERASE-1, P-RET-1: after an erasure through the API, and after the scheduled purge, the
erased values are gone from SQLite's database file and its WAL, with no `margin` command run
(the API used to leave them in the WAL until some later checkpoint; only the CLI compacted)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from service.db import Database
from service.privacy.retention import RetentionPolicy
from service.privacy.scheduler import RetentionScheduler
from tests.conftest import FrozenClock
from tests.factories import auth, decide, make_moderator, make_site, post_comment
from tests.privacy.helpers import post_privacy, tokens_body

NAME = "Quintessa Vorhees-Malinowski"
WEBSITE = "https://quintessa-vorhees.example/about"


def _files(db: Database) -> tuple[bytes, bytes]:
    """The database file and its WAL exactly as they are on disk (no checkpoint first)."""
    path = Path(db.url.removeprefix("sqlite:///"))
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes(), wal.read_bytes() if wal.exists() else b""


def _post_as_subject(client: TestClient) -> dict[str, object]:
    created = post_comment(
        client,
        author_name=NAME,
        website=WEBSITE,
        email="quintessa@example.org",
        body="My view on the new cycle lanes, for the record.",
    )
    assert created.status_code == 201, created.text
    body: dict[str, object] = created.json()
    return body


def _assert_on_disk(db: Database, present: bool) -> None:
    if not db.is_sqlite:
        return  # PostgreSQL: dead tuples go at VACUUM (autovacuum, or `margin purge`)
    main, wal = _files(db)
    for needle in (NAME.encode(), b"quintessa-vorhees.example"):
        if present:
            assert needle in main + wal
        else:
            assert needle not in wal, "the WAL still holds the erased value"
            assert needle not in main, "the database file still holds the erased value"


def test_self_service_erasure_leaves_nothing_in_the_wal(client: TestClient, db: Database) -> None:
    """P-ERASE-1: the reader erases with their edit token; the answer comes after the name and
    website are gone from the SQLite file and WAL, not just from the rows."""
    make_site(db)
    created = _post_as_subject(client)
    _assert_on_disk(db, present=True)
    erased = post_privacy(client, "erase", tokens_body(created))
    assert erased.status_code == 200, erased.text
    assert erased.json()["anonymised"] == 1
    _assert_on_disk(db, present=False)


def test_moderator_erasure_leaves_nothing_in_the_wal(client: TestClient, db: Database) -> None:
    """P-ERASE-1: the same through a moderator's subject request (by email, PII scope)."""
    make_site(db)
    token = make_moderator(db, "news", pii=True)
    _post_as_subject(client)
    _assert_on_disk(db, present=True)
    erased = client.post(
        "/api/v1/moderation/subjects/erase",
        json={"email": "quintessa@example.org", "purpose": "the reader asked by letter"},
        headers=auth(token),
    )
    assert erased.status_code == 200, erased.text
    assert erased.json()["comments"] == 1
    _assert_on_disk(db, present=False)


def test_scheduled_purge_leaves_nothing_in_the_wal(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    """P-RET-1: a rejected comment purged by the server's own schedule (not `margin purge`)
    is gone from the WAL and the file after the run."""
    make_site(db)
    token = make_moderator(db, "news")
    created = _post_as_subject(client)
    decide(client, token, int(str(created["id"])), "reject", "off topic")
    _assert_on_disk(db, present=True)
    clock.advance(days=91)
    scheduler = RetentionScheduler(db, RetentionPolicy(), clock, interval=3600)
    report = scheduler.run_once()
    assert report.comments_deleted == 1
    _assert_on_disk(db, present=False)
    assert RetentionPolicy().removed < timedelta(days=91)
