"""P-DSAR-1 and P-ERASE-1: export and erasure, by email (moderator, CLI) and by edit token."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text, update
from sqlmodel import col, select

from service.comments.models import Comment, IdempotencyRecord, Thread
from service.db import Database
from service.review.models import ModerationEvent
from service.sites.models import Site
from tests.factories import auth, make_moderator, make_site, post_comment, public_ids
from tests.privacy.helpers import ip_client, post_privacy, raw_dump, tokens_body

EMAIL = "Zelda.Quux@Example.org"
NAME = "Zelda Quuxington"
SITE_URL = "https://zelda-quux.example/blog"
OTHER_EMAIL = "bob.other@example.org"
OTHER_NAME = "Bob Otherperson"


def _seed(client: TestClient, db: Database, *, policy: str = "anonymise") -> dict[str, Any]:
    make_site(db)
    make_site(db, "blog")
    with db.write() as session:
        session.execute(update(Site).values(erasure_policy=policy))
        session.commit()
    c = ip_client(client)
    bob = ip_client(client, "198.51.100.9")
    top = post_comment(
        c,
        email=EMAIL,
        author_name=NAME,
        website=SITE_URL,
        body="Zelda's first thought",
        headers={"Idempotency-Key": "zelda-1"},
    ).json()
    reply = post_comment(
        bob,
        email=OTHER_EMAIL,
        author_name=OTHER_NAME,
        body="Bob answers Zelda",
        parent_id=top["id"],
    ).json()
    own_reply = post_comment(
        c, email=EMAIL, author_name=NAME, body="Zelda answers Bob", parent_id=reply["id"]
    ).json()
    lonely = post_comment(
        c, email=EMAIL, author_name=NAME, body="Zelda alone", thread="/other"
    ).json()
    elsewhere = post_comment(
        c, "blog", email=EMAIL.upper(), author_name=NAME, body="Zelda on the blog"
    ).json()
    other = post_comment(
        bob, email=OTHER_EMAIL, author_name=OTHER_NAME, body="Bob unrelated"
    ).json()
    return {
        "top": top,
        "reply": reply,
        "own_reply": own_reply,
        "lonely": lonely,
        "elsewhere": elsewhere,
        "other": other,
    }


def test_moderator_export_by_email_is_complete_scoped_and_recorded(
    client: TestClient, db: Database
) -> None:
    seeded = _seed(client, db)
    pii = make_moderator(db, "news", pii=True)
    plain = make_moderator(db, "news", pii=False)
    body = {
        "email": "  zelda.quux@example.org ",
        "purpose": "reader asked for a copy of their data",
    }
    assert (
        client.post(
            "/api/v1/moderation/subjects/export", json=body, headers=auth(plain)
        ).status_code
        == 403
    )
    response = client.post("/api/v1/moderation/subjects/export", json=body, headers=auth(pii))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    export = response.json()
    ids = {c["id"] for c in export["comments"]}
    # Only this moderator's site; the blog comment is for the blog's moderators (or the CLI).
    assert ids == {seeded["top"]["id"], seeded["own_reply"]["id"], seeded["lonely"]["id"]}
    first = next(c for c in export["comments"] if c["id"] == seeded["top"]["id"])
    assert first["email"] == EMAIL and first["author_name"] == NAME
    assert first["website"] == SITE_URL and first["ip_prefix"] == "203.0.113.0/24"
    assert first["ip_hash_held"] is True and first["status"] == "approved"
    assert [h["action"] for h in first["history"]] == ["auto_approve"]
    assert OTHER_NAME not in response.text and "Bob unrelated" not in response.text
    # The export itself is in the access register, and in the next export.
    register = client.get(
        "/api/v1/moderation/access", params={"site": "news"}, headers=auth(plain)
    ).json()
    assert {e["comment_id"] for e in register["items"]} == ids
    assert {e["kind"] for e in register["items"]} == {"export"}
    again = client.post("/api/v1/moderation/subjects/export", json=body, headers=auth(pii)).json()
    assert len(again["access_register"]) == 6  # the first export and this one


def test_self_service_export_by_edit_token(client: TestClient, db: Database) -> None:
    seeded = _seed(client, db)
    response = post_privacy(client, "export", tokens_body(seeded["top"], seeded["lonely"]))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    export = response.json()
    assert [c["id"] for c in export["comments"]] == [seeded["top"]["id"], seeded["lonely"]["id"]]
    assert export["requested_by"] == "subject"
    assert export["comments"][0]["email"] == EMAIL
    assert "Bob" not in response.text
    # A wrong token anywhere: nothing, the same answer as an unknown comment.
    forged = tokens_body(seeded["top"], {"id": seeded["other"]["id"], "edit_token": "guess"})
    assert post_privacy(client, "export", forged).status_code == 404
    # A token for another site's comment does not work through this site.
    assert post_privacy(client, "export", tokens_body(seeded["elsewhere"])).status_code == 404
    # Self-service reads are not someone else's access: the register stays empty.
    with db.read() as session:
        assert session.exec(text("SELECT count(*) FROM pii_access")).one()[0] == 0  # type: ignore[call-overload]


def _erase_by_email(client: TestClient, db: Database) -> dict[str, Any]:
    pii = make_moderator(db, "news", "blog", pii=True)
    response = client.post(
        "/api/v1/moderation/subjects/erase",
        json={"email": EMAIL, "purpose": "the reader asked to be forgotten"},
        headers=auth(pii),
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _assert_gone(db: Database, *needles: bytes) -> None:
    raw = raw_dump(db)
    assert b"Bob answers Zelda" in raw  # the scan does see the tables' contents
    for needle in needles:
        assert needle not in raw, needle


def test_erasure_anonymise_keeps_text_removes_personal_data(
    client: TestClient, db: Database
) -> None:
    seeded = _seed(client, db, policy="anonymise")
    with db.read() as session:
        before = session.get(Comment, seeded["top"]["id"])
        assert before is not None and before.email_ciphertext and before.email_lookup
        ciphertexts = list(
            session.exec(
                select(Comment.email_ciphertext).where(col(Comment.author_name) == NAME)
            ).all()
        )
        lookup, ip_hash = before.email_lookup, before.ip_hash
        version = session.get(Thread, before.thread_id).version  # type: ignore[union-attr]
    report = _erase_by_email(client, db)
    assert report == {
        "comments": 4,
        "anonymised": 4,
        "deleted": 0,
        "rows_removed": 0,
        "sites": ["blog", "news"],
    }
    thread = client.get(
        "/api/v1/sites/news/comments", params={"thread": "/2020/12/18/zoom-data"}
    ).json()
    by_id = {c["id"]: c for c in thread["comments"]}
    assert by_id[seeded["top"]["id"]]["author_name"] == "Anonymous"
    assert by_id[seeded["top"]["id"]]["website"] is None
    assert "first thought" in by_id[seeded["top"]["id"]]["html"]
    assert by_id[seeded["reply"]["id"]]["author_name"] == OTHER_NAME  # replies by others untouched
    with db.read() as session:
        after = session.get(Comment, seeded["top"]["id"])
        assert after is not None and after.thread_id
        assert session.get(Thread, after.thread_id).version > version  # type: ignore[union-attr]
        assert session.exec(select(IdempotencyRecord)).all() == []
        erasures = session.exec(
            select(ModerationEvent).where(ModerationEvent.action == "erasure")
        ).all()
    assert {e.details["comments"] for e in erasures} == {1, 3}
    assert all(
        NAME not in str(e.model_dump()) and "zelda" not in str(e.model_dump()).lower()
        for e in erasures
    )
    # Nobody can export or edit as the erased author any more.
    assert post_privacy(client, "export", tokens_body(seeded["top"])).status_code == 404
    assert lookup and ip_hash
    _assert_gone(
        db,
        NAME.encode(),
        b"zelda-quux.example",
        b"203.0.113.0/24",
        lookup.encode(),
        ip_hash.encode(),
        b"Zelda.Quux",
        b"zelda.quux",
        *[c for c in ciphertexts if c],
    )


def test_erasure_delete_policy_keeps_others_replies_and_counters(
    client: TestClient, db: Database
) -> None:
    seeded = _seed(client, db, policy="delete")
    report = _erase_by_email(client, db)
    # top has a reply (Bob's) so it stays as a placeholder; the other three rows go.
    assert report == {
        "comments": 4,
        "anonymised": 0,
        "deleted": 4,
        "rows_removed": 3,
        "sites": ["blog", "news"],
    }
    assert set(public_ids(client)) == {seeded["reply"]["id"], seeded["other"]["id"]}
    thread = client.get(
        "/api/v1/sites/news/comments", params={"thread": "/2020/12/18/zoom-data"}
    ).json()
    placeholder = next(c for c in thread["comments"] if c["id"] == seeded["top"]["id"])
    assert placeholder["removed"] is True and placeholder["author_name"] == ""
    assert thread["thread"]["total"] == 2  # Bob's two comments
    assert placeholder["reply_count"] == 1  # Bob's reply still counted; Zelda's reply is gone
    with db.read() as session:
        reply = session.get(Comment, seeded["reply"]["id"])
        assert reply is not None and reply.author_name == OTHER_NAME and reply.reply_count == 0
        assert session.get(Comment, seeded["own_reply"]["id"]) is None
        other = client.get("/api/v1/sites/news/counts", params={"thread": "/other"}).json()
        assert other["counts"]["/other"] == 0
    _assert_gone(
        db,
        NAME.encode(),
        b"Zelda's first thought",
        b"Zelda alone",
        b"Zelda on the blog",
        b"Zelda answers Bob",
    )


def test_self_service_erasure_by_edit_token(client: TestClient, db: Database) -> None:
    seeded = _seed(client, db, policy="anonymise")
    response = post_privacy(client, "erase", tokens_body(seeded["lonely"]))
    assert response.status_code == 200, response.text
    assert response.json()["comments"] == 1
    with db.read() as session:
        lonely = session.get(Comment, seeded["lonely"]["id"])
        top = session.get(Comment, seeded["top"]["id"])
    assert (
        lonely is not None and lonely.author_name == "Anonymous" and lonely.email_ciphertext is None
    )
    # Only the comments the tokens prove: the same email elsewhere is not touched.
    assert top is not None and top.author_name == NAME and top.email_ciphertext is not None
