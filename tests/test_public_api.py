"""The widget's public API on both databases."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text

from service.db import Database
from tests.factories import (
    ORIGIN,
    auth,
    comment_payload,
    decide,
    make_moderator,
    make_site,
    post_comment,
    public_ids,
)

THREAD = "/2020/12/18/zoom-data"


def test_published_comment_is_listed_with_rendered_html(client: TestClient, db: Database) -> None:
    make_site(db)
    response = post_comment(client, body="Hello **world**")
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["status"] == "approved"
    assert len(created["edit_token"]) >= 40
    page = client.get("/api/v1/sites/news/comments", params={"thread": THREAD}).json()
    assert page["thread"]["total"] == 1
    [comment] = page["comments"]
    assert comment["id"] == created["id"]
    assert comment["html"] == "<p>Hello <strong>world</strong></p>"
    assert comment["author_name"] == "Ana Reader"
    assert len(comment["avatar"]) == 16


def test_premoderated_comment_appears_only_after_approval(client: TestClient, db: Database) -> None:
    """S-MOD-1: pending comments are never served publicly."""
    make_site(db, policy={"mode": "premoderate_all", "require_form_token": False})
    token = make_moderator(db, "news")
    created = post_comment(client).json()
    assert created["status"] == "pending"
    assert created["reason"]
    assert public_ids(client) == []
    assert client.get("/api/v1/sites/news/counts", params={"thread": THREAD}).json() == {
        "counts": {THREAD: 0}
    }
    assert decide(client, token, created["id"]).status_code == 200
    assert public_ids(client) == [created["id"]]
    assert client.get("/api/v1/sites/news/counts", params={"thread": THREAD}).json() == {
        "counts": {THREAD: 1}
    }


def test_first_time_authors_are_held_then_trusted_by_email_and_name(
    client: TestClient, db: Database
) -> None:
    """S-AUTHN-3: an approved author's email alone, typed under another name, grants nothing."""
    make_site(db, policy={"mode": "premoderate_first", "require_form_token": False})
    token = make_moderator(db, "news")
    first = post_comment(client, body="first words").json()
    assert first["status"] == "pending"
    decide(client, token, first["id"])
    second = post_comment(client, body="second words").json()
    assert second["status"] == "approved"
    impostor = post_comment(client, body="impostor words", author_name="Someone Else").json()
    assert impostor["status"] == "pending"


def test_rejected_spam_and_deleted_comments_never_appear(client: TestClient, db: Database) -> None:
    """S-MOD-1: each moderator decision takes its comment off the public page."""
    # Published first, so that each decision below is what takes its comment off the page.
    make_site(db, policy={"mode": "publish", "require_form_token": False})
    token = make_moderator(db, "news")
    created = [post_comment(client, body=f"comment number {i}").json() for i in range(4)]
    assert [c["status"] for c in created] == ["approved"] * 4
    ids = [c["id"] for c in created]
    assert public_ids(client) == ids
    assert decide(client, token, ids[1], "reject", "off topic").status_code == 200
    assert public_ids(client) == [ids[0], ids[2], ids[3]]
    assert decide(client, token, ids[2], "spam", "advert").status_code == 200
    assert public_ids(client) == [ids[0], ids[3]]
    assert decide(client, token, ids[3], "delete", "requested").status_code == 200
    assert public_ids(client) == [ids[0]]
    assert decide(client, token, ids[0], "reject", "changed our mind").status_code == 200
    assert public_ids(client) == []
    page = client.get("/api/v1/sites/news/comments", params={"thread": THREAD}).json()
    assert page["thread"]["total"] == 0 and page["comments"] == []


def test_removed_parent_leaves_a_placeholder_for_its_replies(
    client: TestClient, db: Database
) -> None:
    make_site(db)
    token = make_moderator(db, "news")
    parent = post_comment(client, body="parent text that goes").json()
    reply = post_comment(
        client, body="a reply", parent_id=parent["id"], email="b@example.org"
    ).json()
    assert reply["status"] == "approved"
    decide(client, token, parent["id"], "reject", "insulting")
    comments = client.get("/api/v1/sites/news/comments", params={"thread": THREAD}).json()[
        "comments"
    ]
    placeholder, shown = comments
    assert placeholder["id"] == parent["id"] and placeholder["removed"] is True
    assert placeholder["html"] == "" and placeholder["author_name"] == ""
    assert "parent text" not in str(comments)
    assert placeholder["removed_reason"].startswith("removed by a moderator")
    assert shown["id"] == reply["id"] and shown["parent_id"] == parent["id"]


def test_cursor_pagination_returns_every_comment_once(client: TestClient, db: Database) -> None:
    make_site(db)
    roots = [
        post_comment(client, body=f"root {i}", email=f"r{i}@example.org").json()["id"]
        for i in range(25)
    ]
    reply = post_comment(client, body="reply", parent_id=roots[3], email="x@example.org").json()[
        "id"
    ]
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params = {"thread": THREAD, "limit": 10, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/sites/news/comments", params=params).json()
        seen += [c["id"] for c in page["comments"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert sorted(seen) == sorted([*roots, reply]) and len(seen) == len(set(seen))
    newest = client.get(
        "/api/v1/sites/news/comments", params={"thread": THREAD, "sort": "newest", "limit": 3}
    )
    assert [c["id"] for c in newest.json()["comments"]] == roots[::-1][:3]
    most = client.get(
        "/api/v1/sites/news/comments", params={"thread": THREAD, "sort": "replies", "limit": 1}
    )
    assert [c["id"] for c in most.json()["comments"]] == [roots[3], reply]
    under = client.get("/api/v1/sites/news/comments", params={"thread": THREAD, "root": roots[3]})
    assert [c["id"] for c in under.json()["comments"]] == [reply]


def _root_pages(client: TestClient, sort: str, limit: int) -> list[list[int]]:
    """The top-level ids of every page of the thread in ``sort`` order, following the cursor."""
    pages: list[list[int]] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"thread": THREAD, "sort": sort, "limit": limit}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/api/v1/sites/news/comments", params=params).json()
        pages.append([c["id"] for c in page["comments"] if c["parent_id"] is None])
        cursor = page["next_cursor"]
        if cursor is None or len(pages) > 20:
            return pages


def test_newest_and_most_replied_sorts_page_past_the_first_page(
    client: TestClient, db: Database
) -> None:
    """Every top-level comment comes once, in order, across pages; in "most replied" the ties
    (same number of replies, newest first) run across page boundaries."""
    make_site(db)
    roots = [
        post_comment(client, body=f"root {i}", email=f"r{i}@example.org").json()["id"]
        for i in range(9)
    ]
    replies = [2, 0, 1, 2, 0, 1, 2, 0, 1]
    for i, count in enumerate(replies):
        for j in range(count):
            reply = post_comment(
                client, body=f"reply {j} to {i}", parent_id=roots[i], email=f"x{i}{j}@example.org"
            )
            assert reply.status_code == 201, reply.text
    assert _root_pages(client, "newest", 4) == [roots[8:4:-1], roots[4:0:-1], [roots[0]]]
    by_replies = [roots[i] for i in (6, 3, 0, 8, 5, 2, 7, 4, 1)]
    assert _root_pages(client, "replies", 2) == [
        by_replies[0:2],
        by_replies[2:4],
        by_replies[4:6],
        by_replies[6:8],
        by_replies[8:],
    ]


def test_a_closed_thread_refuses_new_comments(client: TestClient, db: Database) -> None:
    make_site(db)
    first = post_comment(client, body="before the close")
    assert first.status_code == 201
    with db.write() as session:
        session.execute(text("UPDATE threads SET is_open = false"))
        session.commit()
    refused = post_comment(client, body="after the close", email="late@example.org")
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] == "comments are closed on this article"
    reply = post_comment(client, body="a late reply", parent_id=first.json()["id"])
    assert reply.status_code == 403
    page = client.get("/api/v1/sites/news/comments", params={"thread": THREAD}).json()
    assert page["thread"]["open"] is False
    assert [c["id"] for c in page["comments"]] == [first.json()["id"]]


def test_bad_cursor_is_a_clear_422(client: TestClient, db: Database) -> None:
    make_site(db)
    response = client.get(
        "/api/v1/sites/news/comments", params={"thread": THREAD, "cursor": "garbage!"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == "cursor"


def test_counts_for_several_threads(client: TestClient, db: Database) -> None:
    make_site(db)
    post_comment(client, thread="a")
    post_comment(client, thread="a", body="another")
    post_comment(client, thread="b")
    counts = client.get(
        "/api/v1/sites/news/counts", params=[("thread", "a"), ("thread", "b"), ("thread", "c")]
    )
    assert counts.json() == {"counts": {"a": 2, "b": 1, "c": 0}}


def test_author_edits_and_deletes_within_the_window(
    client: TestClient, db: Database, clock
) -> None:  # type: ignore[no-untyped-def]
    make_site(db)
    created = post_comment(client).json()
    headers = {"Origin": ORIGIN, "X-Edit-Token": created["edit_token"]}
    url = f"/api/v1/sites/news/comments/{created['id']}"
    edited = client.patch(url, json={"body": "Edited _text_"}, headers=headers)
    assert edited.status_code == 200, edited.text
    assert edited.json()["comment"]["html"] == "<p>Edited <em>text</em></p>"
    own = client.get(f"{url}/own", headers=headers).json()
    assert own["status"] == "approved" and own["body"] == "Edited _text_"
    wrong = client.patch(url, json={"body": "x"}, headers={**headers, "X-Edit-Token": "nope"})
    assert wrong.status_code == 404
    clock.advance(minutes=16)
    late = client.patch(url, json={"body": "too late"}, headers=headers)
    assert late.status_code == 403 and "edit window" in late.json()["error"]["message"]
    assert client.delete(url, headers=headers).status_code == 403


def test_author_delete_removes_the_comment(client: TestClient, db: Database) -> None:
    make_site(db)
    created = post_comment(client).json()
    url = f"/api/v1/sites/news/comments/{created['id']}"
    response = client.delete(url, headers={"Origin": ORIGIN, "X-Edit-Token": created["edit_token"]})
    assert response.status_code == 204
    assert public_ids(client) == []


def test_duplicate_comment_is_409(client: TestClient, db: Database) -> None:
    make_site(db)
    assert post_comment(client, body="Same words").status_code == 201
    again = post_comment(client, body="  same   WORDS ")
    assert again.status_code == 409
    assert "already posted" in again.json()["error"]["message"]


def test_idempotency_key_returns_the_same_comment(client: TestClient, db: Database) -> None:
    """R-DUP-1 (sequential): the same key and body give one row and the same answer."""
    make_site(db)
    first = post_comment(client, headers={"Idempotency-Key": "k-1"})
    second = post_comment(client, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert public_ids(client) == [first.json()["id"]]
    other = post_comment(client, body="different", headers={"Idempotency-Key": "k-1"})
    assert other.status_code == 409


def test_closed_or_unknown_things_answer_clearly(client: TestClient, db: Database) -> None:
    make_site(db)
    assert client.get("/api/v1/sites/nope/comments", params={"thread": "x"}).status_code == 404
    missing_parent = post_comment(client, parent_id=999)
    assert missing_parent.status_code == 422
    assert missing_parent.json()["error"]["fields"][0]["field"] == "parent_id"
    empty = client.get("/api/v1/sites/news/comments", params={"thread": "never-commented"})
    assert empty.json()["thread"]["total"] == 0


def test_config_and_preview(client: TestClient, db: Database) -> None:
    make_site(db)
    config = client.get("/api/v1/sites/news/config").json()
    assert config["limits"]["body"] == 10_000 and config["edit_window_seconds"] == 900
    preview = client.post(
        "/api/v1/sites/news/preview", json={"body": "*hi*"}, headers={"Origin": ORIGIN}
    )
    assert preview.json() == {"html": "<p><em>hi</em></p>"}
    token = client.get("/api/v1/sites/news/form-token", params={"thread": THREAD}).json()["token"]
    assert token.startswith("v1.")


def test_moderator_routes_need_a_token(client: TestClient, db: Database) -> None:
    make_site(db)
    assert client.get("/api/v1/moderation/comments", params={"site": "news"}).status_code == 401
    bad = client.get(
        "/api/v1/moderation/comments", params={"site": "news"}, headers=auth("mgn_wrong")
    )
    assert bad.status_code == 401


def test_reply_to_unpublished_parent_is_refused(client: TestClient, db: Database) -> None:
    make_site(db, policy={"mode": "premoderate_all", "require_form_token": False})
    parent = post_comment(client).json()
    reply = client.post(
        "/api/v1/sites/news/comments",
        json=comment_payload(parent_id=parent["id"], body="reply"),
        headers={"Origin": ORIGIN},
    )
    assert reply.status_code == 422
