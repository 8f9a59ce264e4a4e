"""The comment write path in plain SQL (service.comments.store) and SQLite's group commit
(service.groupcommit): rows read back through the ORM exactly as the ORM would have written
them, and batched submissions are acknowledged only once committed."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from service.clock import system_clock
from service.comments.models import Comment, IdempotencyRecord, RateEvent, Thread
from service.comments.ratelimit import purge_old
from service.comments.store import Sql
from service.db import Database
from service.errors import Conflict
from service.groupcommit import GroupCommit, _Job
from service.privacy.crypto import Sealed, Vault
from service.review.events import verify_chain
from service.review.models import ModerationEvent
from tests.factories import OPEN_POLICY, make_site, post_comment

LIMIT = {"limit": 50, "window_seconds": 3600}
LIMITS = {"ip": LIMIT, "author": LIMIT, "thread": LIMIT}


def _vault(client: TestClient) -> Vault:
    vault: Vault = client.app.state.margin.vault  # type: ignore[attr-defined]
    return vault


def test_rows_written_in_sql_read_back_through_the_orm(client: TestClient, db: Database) -> None:
    """R-PRIV-1: the email stored by the SQL path is ciphertext bound to its row, and every
    column reads back through the ORM models with the right types."""
    make_site(db, policy={**OPEN_POLICY, "rate_limits": LIMITS})
    first = post_comment(client, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 201, first.text
    parent_id = first.json()["id"]
    reply = post_comment(client, body="A reply with a point.", parent_id=parent_id)
    assert reply.status_code == 201, reply.text
    assert reply.json()["status"] == "approved"
    now = client.app.state.margin.clock()  # type: ignore[attr-defined]

    with db.read() as session:
        parent = session.get(Comment, parent_id)
        child = session.get(Comment, reply.json()["id"])
        assert parent is not None and child is not None
        assert parent.created_at == now and parent.created_at.tzinfo is not None
        assert parent.status == "approved" and parent.reply_count == 1
        assert child.parent_id == parent_id and child.root_id == parent_id and child.depth == 1
        assert child.moderation["actor"] == "system" and child.moderation["action"] == "approve"
        assert child.review_requested is False and child.flag_count == 0
        assert child.ip_expires_at is not None and child.ip_expires_at > now
        assert child.email_ciphertext is not None and child.email_key_id is not None
        assert b"ana.reader" not in child.email_ciphertext
        email = _vault(client).open(
            Sealed(child.email_key_id, child.email_ciphertext),
            table="comments",
            column="email",
            row_id=child.id or 0,
        )
        assert email == "ana.reader@example.org"
        thread = session.exec(select(Thread)).one()
        assert thread.approved_count == 2 and thread.version == 2
        assert thread.created_at == now
        events = session.exec(select(ModerationEvent).order_by(col(ModerationEvent.id))).all()
        assert [e.action for e in events] == ["auto_approve", "auto_approve"]
        assert verify_chain(events) == []
        record = session.exec(select(IdempotencyRecord)).one()
        assert record.comment_id == parent_id and record.token_ciphertext is not None
        # The rate-limit rows compare and expire like ORM-written ones (author and thread
        # per post: the test client's address is not an IP, so it has no IP scope).
        assert len(session.exec(select(RateEvent)).all()) == 4
    with db.write() as session:
        assert purge_old(session, now + timedelta(days=6)) == 0
        assert purge_old(session, now + timedelta(days=8)) == 4
        session.commit()

    replay = post_comment(client, headers={"Idempotency-Key": "k-1"})
    assert replay.status_code == 201
    assert replay.json()["id"] == parent_id
    assert replay.json()["edit_token"] == first.json()["edit_token"]


def test_a_refused_submission_leaves_nothing_behind(client: TestClient, db: Database) -> None:
    """R-DUP-1: a duplicate is refused with 409 and its rate-limit rows are not kept."""
    make_site(db, policy={**OPEN_POLICY, "rate_limits": LIMITS})
    assert post_comment(client).status_code == 201
    again = post_comment(client)
    assert again.status_code == 409
    with db.read() as session:
        assert len(session.exec(select(Comment)).all()) == 1
        assert len(session.exec(select(RateEvent)).all()) == 2


def test_only_limited_scopes_are_recorded(client: TestClient, db: Database) -> None:
    """P-MIN-1, D-RATE-2: a flood-limit scope the policy does not limit keeps no keyed hash;
    the limited scope still counts and refuses (429)."""
    thread_only = {"ip": None, "author": None, "thread": {"limit": 3, "window_seconds": 3600}}
    make_site(db, policy={**OPEN_POLICY, "rate_limits": thread_only})
    for body in ("A first point.", "A second thought.", "A third remark."):
        assert post_comment(client, body=body).status_code == 201
    assert post_comment(client, body="One too many.").status_code == 429
    unlimited = {"ip": None, "author": None, "thread": None}
    make_site(db, slug="open", policy={**OPEN_POLICY, "rate_limits": unlimited})
    assert post_comment(client, site="open").status_code == 201
    with db.read() as session:
        rows = session.exec(select(RateEvent)).all()
        assert [(row.site_id, row.scope) for row in rows] == [(1, "thread")] * 3


def _insert_thread(session: Session, key: str) -> str:
    sql = Sql(session)
    sql.run(
        "INSERT INTO threads (site_id, key, title, url, is_open, approved_count, version,"
        " created_at) VALUES (1, :key, :key, NULL, :open, 0, 0, :at)",
        {"key": key, "open": True, "at": sql.when(system_clock())},
    )
    return key


@pytest.fixture
def sqlite_db(tmp_path: Path, sqlite_template: Path) -> Iterator[Database]:
    target = tmp_path / "margin.db"
    shutil.copy(sqlite_template, target)
    database = Database(f"sqlite:///{target}")
    make_site(database)
    yield database
    database.dispose()


def _keys(db: Database) -> set[str]:
    with db.read() as session:
        return set(session.exec(select(Thread.key)).all())


def _wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.005)


def _submit_behind_the_lock(
    db: Database, committer: GroupCommit, count: int, failing: int, error: Exception
) -> dict[int, object]:
    """Submit ``count`` thread inserts while the write lock is held, so they queue; the one
    numbered ``failing`` raises ``error``. Returns each submission's result or exception."""
    results: dict[int, object] = {}

    def submit(i: int) -> None:
        def work(session: Session) -> str:
            key = _insert_thread(session, f"t{i}")
            if i == failing:
                raise error
            return key

        try:
            results[i] = committer.run(work)
        except Exception as raised:
            results[i] = raised

    queued = threading.Semaphore(0)
    submit_now = committer.submit

    def counted(work: Callable[[Session], object]) -> Future[object]:
        future = submit_now(work)
        queued.release()
        return future

    committer.submit = counted  # type: ignore[method-assign]  # run() submits through it
    with db.write() as blocker:
        Sql(blocker)  # BEGIN IMMEDIATE: the lock is ours until the rollback
        threads = [threading.Thread(target=submit, args=(i,)) for i in range(count)]
        for thread in threads:
            thread.start()
        # Wait for what matters, not for a time: every submission is queued and the writer
        # has begun a batch (and waits for the lock we hold).
        for _ in range(count):
            assert queued.acquire(timeout=30), "a submission never reached the queue"
        _wait_for(lambda: committer.transactions >= 1)
        assert results == {}, "nothing may be acknowledged while the lock is held"
        blocker.rollback()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == count
    return results


def test_group_commit_shares_transactions_and_isolates_refusals(sqlite_db: Database) -> None:
    """R-CRASH-1: submissions queued behind a busy writer share one transaction; one refused
    (MarginError) rolls back only its own writes; each result arrives after the commit."""
    committer = GroupCommit(sqlite_db)
    results = _submit_behind_the_lock(sqlite_db, committer, 20, 7, Conflict("refused"))

    assert isinstance(results[7], Conflict)
    assert {i: r for i, r in results.items() if i != 7} == {i: f"t{i}" for i in range(20) if i != 7}
    assert _keys(sqlite_db) == {f"t{i}" for i in range(20) if i != 7}
    assert committer.transactions <= 3  # 20 submissions, one or two batches after the lock


def test_a_failed_batch_acknowledges_nothing(sqlite_db: Database) -> None:
    """R-CRASH-1: an error that is not a refusal fails the whole transaction, and every
    submission in it gets the error instead of a result."""
    committer = GroupCommit(sqlite_db)
    results = _submit_behind_the_lock(sqlite_db, committer, 6, 3, RuntimeError("disk on fire"))

    failed = {i for i, r in results.items() if isinstance(r, RuntimeError)}
    assert 3 in failed
    assert len(failed) >= 2, "what shared the failed transaction failed with it"
    # Whatever was acknowledged is stored; nothing that failed is.
    assert _keys(sqlite_db) == {f"t{i}" for i in range(6) if i not in failed}


def test_a_submission_cancelled_before_its_batch_is_not_written(sqlite_db: Database) -> None:
    """R-CRASH-1: a queued submission whose waiter gave up (its future cancelled) is dropped
    without disturbing the others in its batch, which are written and acknowledged."""
    committer = GroupCommit(sqlite_db)
    dropped = _Job(lambda session: _insert_thread(session, "dropped"))
    kept = _Job(lambda session: _insert_thread(session, "kept"))
    assert dropped.future.cancel()
    committer._write([dropped, kept])  # the batch as the writer thread would take it
    assert kept.future.result(timeout=0) == "kept"
    assert _keys(sqlite_db) == {"kept"}
    also_dropped = _Job(lambda session: _insert_thread(session, "also dropped"))
    assert also_dropped.future.cancel()
    committer._write([also_dropped])  # nothing but cancelled work: no transaction at all
    assert committer.transactions == 1
    assert _keys(sqlite_db) == {"kept"}


def _work(key: str, error: Exception | None = None) -> Callable[[Session], str]:
    def work(session: Session) -> str:
        _insert_thread(session, key)
        if error is not None:
            raise error
        return key

    return work


def test_the_author_history_count_reads_one_index_only(sqlite_db: Database) -> None:
    """The trust look-up of every new comment is answered from the covering index (migration
    0005), never by walking the site's comments (docs/performance.md, "Writes")."""
    with sqlite_db.read() as session:
        sql = Sql(session)
        plan = sql.all(
            "EXPLAIN QUERY PLAN SELECT status, count(*) FROM comments WHERE site_id = :site"
            " AND email_lookup = :lookup AND author_name = :name GROUP BY status",
            {"site": 1, "lookup": "x", "name": "Ana"},
        )
        details = " ".join(str(row[-1]) for row in plan)
        assert "COVERING INDEX ix_comments_site_id_email_lookup_author_name_status" in details
        assert "TEMP B-TREE" not in details


def test_a_subject_search_probes_the_site_index(sqlite_db: Database) -> None:
    """Finding a person's comments on every site (data-subject requests) needs no index on
    the email hash alone (migration 0006): it probes (site_id, email_lookup) per site."""
    from sqlalchemy import event

    from service.privacy.keys import Keyring
    from service.privacy.subjects import find_by_email

    statements: list[tuple[str, object]] = []

    def capture(_conn: object, _cursor: object, statement: str, params: object, *_: object) -> None:
        statements.append((statement, params))

    vault = Vault(Keyring.generate())
    event.listen(sqlite_db.engine, "before_cursor_execute", capture)
    try:
        with sqlite_db.read() as session:
            assert find_by_email(session, vault, "ana@example.org", site_ids=None) == []
    finally:
        event.remove(sqlite_db.engine, "before_cursor_execute", capture)
    [(statement, params)] = [s for s in statements if "FROM comments" in s[0]]
    with sqlite_db.read() as session:
        cursor = session.connection().connection.driver_connection.cursor()
        plan = cursor.execute("EXPLAIN QUERY PLAN " + statement, params).fetchall()
    details = " ".join(str(row[-1]) for row in plan)
    assert (
        "ix_comments_site_id_email_lookup_author_name_status (site_id=? AND email_lookup=?)"
        in details
    )
    assert "SCAN comments" not in details


def test_the_event_chain_links_non_ascii_text(client: TestClient, db: Database) -> None:
    """S-AUDIT-1: events whose reason and details hold non-ASCII text (linked by the server on
    PostgreSQL, in Python on SQLite) verify, and a changed byte is detected."""
    make_site(db, policy={**OPEN_POLICY, "blocked_words": ["café"]})
    assert post_comment(client, body="Ça va ? Un naïve 日本語 comment — fine.").status_code == 201
    held = post_comment(client, body="Le café est fermé.", author_name="Zoë")
    assert held.status_code == 201 and held.json()["status"] != "approved"
    with db.read() as session:
        events = session.exec(select(ModerationEvent).order_by(col(ModerationEvent.id))).all()
        assert len(events) == 2 and "café" in str(events[1].details)
        assert verify_chain(events) == []
        session.expunge_all()
    events[1].reason = events[1].reason + " "
    assert verify_chain(events) != []
