"""R-MIGRATE-1: keys rotate while the service serves; rows move in batches; old keys retire
only when unused; look-ups keep working mid-rotation; raw scans show no old ciphertext."""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from service.comments.models import Comment, IdempotencyRecord
from service.comments.store import Sql
from service.comments.writing import _history
from service.db import Database
from service.privacy import rotation
from service.privacy.crypto import Sealed, Vault
from service.privacy.keys import load_keyring
from service.privacy.rotation import KeyKind, RotationError
from service.settings import Settings
from tests.factories import auth, make_moderator, make_site, post_comment
from tests.privacy.helpers import raw_dump


def _vault(client: TestClient) -> Vault:
    vault: Vault = client.app.state.margin.vault  # type: ignore[attr-defined]
    return vault


def _all_readable(db: Database, vault: Vault) -> dict[int, str]:
    out = {}
    with db.read() as session:
        for row in session.exec(select(Comment)).all():
            assert row.id is not None and row.email_ciphertext is not None and row.email_key_id
            out[row.id] = vault.open(
                Sealed(row.email_key_id, row.email_ciphertext),
                table="comments",
                column="email",
                row_id=row.id,
            )
    return out


def test_rotate_encryption_key_rewraps_and_retires(
    client: TestClient, db: Database, settings: Settings
) -> None:
    make_site(db)
    for i in range(7):
        assert (
            post_comment(
                client,
                email=f"r{i}@example.org",
                body=f"c{i}",
                headers={"Idempotency-Key": f"k{i}"},
            ).status_code
            == 201
        )
    with db.read() as session:
        old_blobs = [r for r in session.exec(select(Comment.email_ciphertext)).all() if r]
    messages: list[str] = []
    report = rotation.rotate(
        db, settings.key_file, KeyKind.ENCRYPTION, batch_size=3, progress=messages.append
    )
    assert report.new_key == "e2" and report.rows_done == 14 and report.remaining == 0
    assert any("moved to key e2" in m for m in messages)
    keyring = load_keyring(settings.key_file)
    assert keyring.active_encryption_key == "e2" and set(keyring.encryption_keys) == {"e1", "e2"}
    with db.read() as session:
        assert rotation.key_usage(session)["encryption"] == {"e2": 14}
        assert {r.token_key_id for r in session.exec(select(IdempotencyRecord)).all()} == {"e2"}
    # The running server picked the new key up from the file and still reads everything.
    vault = _vault(client)
    assert _all_readable(db, vault) == {i + 1: f"r{i}@example.org" for i in range(7)}
    assert post_comment(client, email="new@example.org", body="after").status_code == 201
    assert vault.keyring.active_encryption_key == "e2"
    # Replays of old idempotent requests still answer with the (re-encrypted) edit token.
    assert (
        post_comment(
            client, email="r0@example.org", body="c0", headers={"Idempotency-Key": "k0"}
        ).status_code
        == 201
    )
    with pytest.raises(RotationError, match="active"):
        rotation.retire_key(db, settings.key_file, KeyKind.ENCRYPTION, "e2")
    rotation.retire_key(db, settings.key_file, KeyKind.ENCRYPTION, "e1")
    assert set(load_keyring(settings.key_file).encryption_keys) == {"e2"}
    raw = raw_dump(db)
    assert b"c3" in raw
    for blob in old_blobs:
        assert blob not in raw


def test_old_key_cannot_retire_while_rows_use_it(
    client: TestClient, db: Database, settings: Settings
) -> None:
    make_site(db)
    post_comment(client)
    kid = rotation.add_key(settings.key_file, KeyKind.ENCRYPTION, activate=True)
    with pytest.raises(RotationError, match="1 rows still use"):
        rotation.retire_key(db, settings.key_file, KeyKind.ENCRYPTION, "e1")
    vault = Vault(load_keyring(settings.key_file), key_file=settings.key_file)
    assert rotation.migrate_rows(db, vault, KeyKind.ENCRYPTION).remaining == 0
    rotation.retire_key(db, settings.key_file, KeyKind.ENCRYPTION, "e1")
    assert kid == "e2"


def test_a_server_reads_rows_sealed_with_a_key_it_had_not_loaded(
    client: TestClient, db: Database, settings: Settings
) -> None:
    make_site(db)
    server = _vault(client)
    # Another worker (or the CLI) already uses a key this server has never seen.
    rotation.add_key(settings.key_file, KeyKind.ENCRYPTION, activate=True)
    other = Vault(load_keyring(settings.key_file))
    sealed = other.seal("x@example.org", table="comments", column="email", row_id=99)
    server._seen = None  # as if the file change had not been noticed yet
    assert server.open(sealed, table="comments", column="email", row_id=99) == "x@example.org"


def test_rotation_while_comments_are_posted_loses_nothing(
    client: TestClient, db: Database, settings: Settings
) -> None:
    make_site(db)
    for i in range(20):
        post_comment(client, email=f"before{i}@example.org", body=f"before {i}")
    created: list[int] = []
    errors: list[str] = []
    stop = threading.Event()

    def writer() -> None:
        i = 0
        while not stop.is_set() or i < 10:
            response = post_comment(client, email=f"during{i}@example.org", body=f"during {i}")
            if response.status_code == 201:
                created.append(response.json()["id"])
            else:
                errors.append(response.text)
            i += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        report = rotation.rotate(
            db, settings.key_file, KeyKind.ENCRYPTION, batch_size=4, pause=0.01
        )
    finally:
        stop.set()
        thread.join(60)
    assert errors == []
    # Rows a worker sealed with the old key while it had not yet seen the file: one more pass.
    vault = Vault(load_keyring(settings.key_file), key_file=settings.key_file)
    assert rotation.migrate_rows(db, vault, KeyKind.ENCRYPTION).remaining == 0
    rotation.retire_key(db, settings.key_file, KeyKind.ENCRYPTION, "e1")
    readable = _all_readable(db, Vault(load_keyring(settings.key_file)))
    assert len(readable) == 20 + len(created) and len(created) >= 10
    assert all(readable[cid].startswith("during") for cid in created)
    assert report.new_key == "e2"
    with db.read() as session:
        assert rotation.key_usage(session)["encryption"] == {"e2": len(readable)}


def test_lookup_key_rotation_keeps_subject_lookups_working(
    client: TestClient, db: Database, settings: Settings
) -> None:
    make_site(db)
    pii = make_moderator(db, "news", pii=True)
    for i in range(5):
        post_comment(client, email="Same.Person@example.org", body=f"mine {i}")
    post_comment(client, email="someone@example.org", body="not mine")
    body = {"email": "same.person@example.org", "purpose": "reader asked for their data"}
    # Half way: a new look-up key is active, only some rows re-hashed.
    rotation.add_key(settings.key_file, KeyKind.LOOKUP, activate=True)
    vault = Vault(load_keyring(settings.key_file), key_file=settings.key_file)
    rotation._rehash_comments(db, vault, 0, 2)
    with db.read() as session:
        assert rotation.key_usage(session)["lookup"] == {"l1": 4, "l2": 2}
        # The author's standing counts the rows of both keys (one query per key).
        lookups = sorted(set(vault.email_lookups("same.person@example.org").values()))
        assert len(lookups) == 2
        history = _history(Sql(session), 1, lookups, "Ana Reader")
        assert (history.approved, history.rejected, history.spam) == (5, 0, 0)
    found = client.post("/api/v1/moderation/subjects/export", json=body, headers=auth(pii)).json()
    assert len(found["comments"]) == 5
    assert rotation.migrate_rows(db, vault, KeyKind.LOOKUP).remaining == 0
    rotation.retire_key(db, settings.key_file, KeyKind.LOOKUP, "l1")
    found = client.post("/api/v1/moderation/subjects/export", json=body, headers=auth(pii)).json()
    assert len(found["comments"]) == 5
    with db.read() as session:
        avatars = {
            r.avatar for r in session.exec(select(Comment)).all() if r.body.startswith("mine")
        }
    assert len(avatars) == 1  # one commenter, one identicon, before and after
