"""Emails stay private: not in any response, not in the database in clear, revealed only on record."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import select

from service.comments.models import Comment
from service.db import Database
from service.privacy.crypto import DecryptionError, Sealed
from tests.factories import ORIGIN, auth, decide, make_moderator, make_site, post_comment

EMAIL = "Secret.Person@Example.org"


def _digests(email: str) -> list[str]:
    out = []
    for variant in {email, email.lower(), email.strip().lower()}:
        for algo in ("md5", "sha1", "sha256"):
            out.append(hashlib.new(algo, variant.encode()).hexdigest())
    return out


def test_no_response_contains_the_email_or_an_unkeyed_hash_of_it(
    client: TestClient, db: Database
) -> None:
    """P-EMAIL-1 and P-EMAIL-3: walk every public and moderator answer for the email and its
    MD5/SHA-1/SHA-256 (Gravatar-style) digests."""
    make_site(db, policy={"mode": "premoderate_first", "require_form_token": False})
    token = make_moderator(db, "news", pii=False)
    created = post_comment(client, email=EMAIL)
    decide(client, token, created.json()["id"])
    reply = post_comment(client, email=EMAIL, body="second", parent_id=created.json()["id"])
    thread = "/2020/12/18/zoom-data"
    responses = [
        created,
        reply,
        client.get("/api/v1/sites/news/comments", params={"thread": thread}),
        client.get(
            f"/api/v1/sites/news/comments/{created.json()['id']}/own",
            headers={"X-Edit-Token": created.json()["edit_token"]},
        ),
        client.get(
            "/api/v1/moderation/comments",
            params={"site": "news", "status": "approved"},
            headers=auth(token),
        ),
        client.get("/api/v1/moderation/comments", params={"site": "news"}, headers=auth(token)),
        client.get("/api/v1/moderation/events", params={"site": "news"}, headers=auth(token)),
        client.get("/api/v1/sites/news/counts", params={"thread": thread}),
    ]
    needles = [EMAIL, EMAIL.lower(), *_digests(EMAIL)]
    for response in responses:
        assert response.status_code < 400, response.text
        blob = response.text + str(response.headers)
        for needle in needles:
            assert needle not in blob
        assert "@" not in response.text.replace("@example", "")  # nothing email-shaped either


def _scan_sqlite(url: str) -> bytes:
    path = Path(url.removeprefix("sqlite:///"))
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = path.read_bytes()
    wal = path.with_name(path.name + "-wal")
    return data + (wal.read_bytes() if wal.exists() else b"")


def test_database_holds_no_plaintext_email(client: TestClient, db: Database) -> None:
    """P-ENC-1: the raw SQLite file (and WAL) or the PostgreSQL table never holds the email."""
    make_site(db)
    for i in range(3):
        assert post_comment(client, email=EMAIL, body=f"comment {i}").status_code == 201
    if db.is_sqlite:
        raw = _scan_sqlite(db.url)
        assert b"Secret.Person" not in raw and b"secret.person" not in raw
        assert b"comment 1" in raw  # the scan does see the table's contents
    else:
        with db.engine.connect() as conn:
            dump = conn.execute(
                text("SELECT string_agg(c::text, '|') FROM comments c")
            ).scalar_one()
        assert "comment 1" in dump
        assert "secret.person" not in dump.lower()


def test_ciphertext_is_bound_to_its_row(client: TestClient, db: Database) -> None:
    """P-ENC-1: a ciphertext moved to another row, or altered, fails to decrypt."""
    make_site(db)
    a = post_comment(client, email="a@example.org", body="one").json()["id"]
    b = post_comment(client, email="b@example.org", body="two").json()["id"]
    vault = client.app.state.margin.vault  # type: ignore[attr-defined]
    with db.read() as session:
        row_a = session.get(Comment, a)
        assert row_a is not None and row_a.email_ciphertext and row_a.email_key_id
        sealed = Sealed(row_a.email_key_id, row_a.email_ciphertext)
        assert vault.open(sealed, table="comments", column="email", row_id=a) == "a@example.org"
        with pytest.raises(DecryptionError):
            vault.open(sealed, table="comments", column="email", row_id=b)
        flipped = bytearray(row_a.email_ciphertext)
        flipped[-1] ^= 1
        with pytest.raises(DecryptionError):
            vault.open(
                Sealed(row_a.email_key_id, bytes(flipped)),
                table="comments",
                column="email",
                row_id=a,
            )
        lookups = session.exec(select(Comment.email_lookup)).all()
    assert all(value and len(value) == 64 for value in lookups)
    assert hashlib.sha256(b"a@example.org").hexdigest() not in lookups


def test_reveal_needs_the_pii_scope_and_is_recorded(client: TestClient, db: Database) -> None:
    """S-AUTHZ-2: only PII-scoped tokens reveal, with a purpose, and the reveal is logged."""
    make_site(db)
    plain = make_moderator(db, "news", pii=False)
    pii = make_moderator(db, "news", pii=True, name="Privacy officer")
    comment_id = post_comment(client, email=EMAIL).json()["id"]
    url = f"/api/v1/moderation/comments/{comment_id}/reveal-email"
    body = {"purpose": "abuse report from the reader concerned", "category": "abuse"}
    refused = client.post(url, json=body, headers=auth(plain))
    assert refused.status_code == 403
    assert (
        client.post(
            url, json={"purpose": "short", "category": "abuse"}, headers=auth(pii)
        ).status_code
        == 422
    )
    revealed = client.post(url, json=body, headers=auth(pii))
    assert revealed.status_code == 200
    assert revealed.json() == {"comment_id": comment_id, "email": EMAIL}
    assert revealed.headers["cache-control"] == "no-store"
    events = client.get(
        "/api/v1/moderation/events", params={"site": "news"}, headers=auth(pii)
    ).json()["items"]
    reveal = [e for e in events if e["action"] == "reveal_email"]
    assert len(reveal) == 1
    assert reveal[0]["reason"] == body["purpose"] and reveal[0]["details"] == {"category": "abuse"}
    assert EMAIL not in str(events)


def test_ip_is_kept_only_as_prefix_and_keyed_hash(client: TestClient, db: Database) -> None:
    """P-MIN-1: no full IP stored."""
    make_site(db)
    comment_id = post_comment(client).json()["id"]
    with db.read() as session:
        row = session.get(Comment, comment_id)
        assert row is not None
    # TestClient's peer is "testclient", which is not an IP: nothing is kept at all.
    assert row.ip_prefix is None
    from service.privacy.crypto import ip_prefix

    assert ip_prefix("203.0.113.77") == "203.0.113.0/24"
    assert ip_prefix("2001:db8:1234:5678::1") == "2001:db8:1234::/48"
    assert ip_prefix("::ffff:198.51.100.9") == "198.51.100.0/24"
    assert ip_prefix("garbage") is None
    _ = ORIGIN


def test_the_ipv4_shortcut_keeps_exactly_what_the_general_path_keeps() -> None:
    """P-MIN-1: the dotted-quad shortcut in ip_prefix gives the same prefix as parsing with
    ipaddress for every input, valid or not (leading zeros, octets over 255, other digits)."""
    import random

    from service.privacy.crypto import ip_prefix, parsed_prefix

    rng = random.Random(7)
    cases = ["0.0.0.0", "255.255.255.255", "256.1.1.1", "1.2.3.256", "01.2.3.4", "1.2.3.04"]
    cases += ["1.2.3", "1.2.3.4.5", "1.2.3.4 ", " 1.2.3.4", "1.2.3.4\n", "1\u0661.2.3.4"]
    cases += ["::ffff:10.1.2.3", "2001:db8::1", "1.2.3.-4", "+1.2.3.4", "1..2.3"]
    for _ in range(20_000):
        octets = [
            str(rng.choice([rng.randint(0, 9), rng.randint(0, 300)]))
            if rng.random() > 0.05
            else "0" + str(rng.randint(0, 99))
            for _ in range(4)
        ]
        cases.append(".".join(octets))
    for case in cases:
        assert ip_prefix(case) == parsed_prefix(case), case
