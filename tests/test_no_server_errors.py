"""No 500 for bad input (issue 19): ids out of range, text that cannot be stored or shown,
moderator-supplied policy content, and a repair for an event already stored with an
unencodable value. Every test runs on SQLite and PostgreSQL (the ``client`` fixture)."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import select

from service.bounded import MAX_ID
from service.cli import main
from service.comments.models import Comment
from service.db import Database
from service.privacy.audit import verify_logs
from service.review.events import append_event
from service.review.models import Actor, ModerationEvent
from service.settings import Settings
from service.sites.models import Site
from tests.factories import ORIGIN, auth, decide, make_moderator, make_site, post_comment

THREAD = "/2020/12/18/zoom-data"
# Past PostgreSQL's integer (2**31 - 1), past SQLite's 64-bit integer, and past both.
TOO_BIG = (MAX_ID + 1, 2**63, 2**64)


@pytest.fixture
def token(client: TestClient, db: Database) -> str:
    make_site(db)
    moderator = make_moderator(db, "news", pii=True)
    for i in range(2):
        assert post_comment(client, body=f"Comment number {i}").status_code == 201
    return moderator


def _raw_json(client: TestClient, method: str, url: str, body: str, **headers: str) -> Response:
    """A JSON body sent as written: ``\\ud800`` stays a lone surrogate once decoded (a
    client's own JSON encoder would refuse to send one)."""
    return client.request(
        method,
        url,
        content=body.encode(),
        headers={"Content-Type": "application/json", "Origin": ORIGIN, **headers},
    )


def _refused(response: Response, field: str) -> None:
    assert response.status_code == 422, response.text
    fields = [f["field"] for f in response.json()["error"]["fields"]]
    assert any(f == field or f.startswith(field + ".") for f in fields), (field, fields)


def _cursor(*parts: Any) -> str:
    raw = json.dumps(list(parts), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_ids_out_of_range_in_paths_are_422_never_500(client: TestClient, token: str) -> None:
    """D-SIZE-2: a path id past either database's integer is refused before any query; the
    largest id that fits is simply not found."""
    moderator = auth(token)
    for big in TOO_BIG:
        calls = [
            client.get(f"/api/v1/sites/news/comments/{big}/own", headers={"X-Edit-Token": "x"}),
            client.patch(
                f"/api/v1/sites/news/comments/{big}",
                json={"body": "edited"},
                headers={"Origin": ORIGIN, "X-Edit-Token": "x"},
            ),
            client.delete(
                f"/api/v1/sites/news/comments/{big}",
                headers={"Origin": ORIGIN, "X-Edit-Token": "x"},
            ),
            client.post(
                f"/api/v1/sites/news/comments/{big}/flags",
                json={"category": "spam"},
                headers={"Origin": ORIGIN},
            ),
            decide(client, token, big),
            client.post(
                f"/api/v1/moderation/comments/{big}/reveal-email",
                json={"purpose": "abuse report follow-up", "category": "abuse"},
                headers=moderator,
            ),
            client.post(
                f"/api/v1/moderation/comments/{big}/reveal-ip",
                json={"purpose": "abuse report follow-up", "category": "abuse"},
                headers=moderator,
            ),
        ]
        for response in calls:
            _refused(response, "comment_id")
    assert decide(client, token, MAX_ID).status_code == 404
    own = client.get(f"/api/v1/sites/news/comments/{MAX_ID}/own", headers={"X-Edit-Token": "x"})
    assert own.status_code == 404


def test_ids_out_of_range_in_queries_bodies_and_lists_are_422(
    client: TestClient, token: str
) -> None:
    """D-SIZE-2: ``root``, ``parent_id``, bulk ids and self-service ids are bounded too."""
    for big in TOO_BIG:
        listing = client.get("/api/v1/sites/news/comments", params={"thread": THREAD, "root": big})
        _refused(listing, "root")
        _refused(post_comment(client, parent_id=big), "parent_id")
        bulk = client.post(
            "/api/v1/moderation/decisions",
            json={"action": "approve", "reason": "fine", "ids": [1, big]},
            headers=auth(token),
        )
        _refused(bulk, "ids.1")
        own = client.post(
            "/api/v1/sites/news/privacy/export",
            json={"comments": [{"comment_id": big, "edit_token": "abc"}]},
            headers={"Origin": ORIGIN},
        )
        _refused(own, "comments.0.comment_id")
    assert post_comment(client, parent_id=MAX_ID).status_code == 422  # no such parent


def test_cursors_with_numbers_out_of_range_are_422(client: TestClient, token: str) -> None:
    """D-SIZE-2: a forged cursor is refused like any other bad value."""
    pages = [
        ("/api/v1/sites/news/comments", {"thread": THREAD}, {}),
        ("/api/v1/sites/news/comments", {"thread": THREAD, "sort": "newest"}, {}),
        ("/api/v1/sites/news/comments", {"thread": THREAD, "sort": "replies"}, {}),
        ("/api/v1/moderation/comments", {"site": "news"}, auth(token)),
        ("/api/v1/moderation/events", {"site": "news"}, auth(token)),
        ("/api/v1/moderation/access", {"site": "news"}, auth(token)),
    ]
    for url, params, headers in pages:
        for big in (*TOO_BIG, -1):
            for cursor in (_cursor(big), _cursor(big, big), _cursor(1, big)):
                response = client.get(url, params={**params, "cursor": cursor}, headers=headers)
                _refused(response, "cursor")
    html = client.get("/sites/news/threads", params={"thread": THREAD, "cursor": _cursor(2**63)})
    assert html.status_code == 422


NUL_AND_FRIENDS = ("a\x00b", "a\x07b", "a\x85b", "a\u202eb")


def test_text_in_query_and_path_values_is_checked(client: TestClient, token: str) -> None:
    """U-ROUNDTRIP-1, U-BIDI-1: NUL (PostgreSQL cannot even be sent it), other control
    characters and bidi controls in query and path values are 422 naming the parameter."""
    for bad in NUL_AND_FRIENDS:
        _refused(client.get("/api/v1/sites/news/comments", params={"thread": bad}), "thread")
        _refused(client.get("/api/v1/sites/news/form-token", params={"thread": bad}), "thread")
        _refused(
            client.get("/api/v1/sites/news/counts", params={"thread": [THREAD, bad]}), "thread.1"
        )
        _refused(client.get("/sites/news/threads", params={"thread": bad}), "thread")
        queue = client.get(
            "/api/v1/moderation/comments",
            params={"site": "news", "thread": bad},
            headers=auth(token),
        )
        _refused(queue, "thread")
        for url in ("/api/v1/moderation/events", "/api/v1/moderation/access"):
            _refused(client.get(url, params={"site": bad}, headers=auth(token)), "site")
        in_path = quote(bad, safe="")
        _refused(
            client.get(f"/api/v1/moderation/sites/{in_path}/policy", headers=auth(token)), "site"
        )
        _refused(client.get(f"/api/v1/sites/{in_path}/config"), "site")


def test_text_in_bodies_is_checked(client: TestClient, token: str) -> None:
    """U-ROUNDTRIP-1, U-BIDI-1, S-XSS-2: lone surrogates, NUL and bidi overrides in body
    fields are 422 naming the field; nothing is stored."""
    comments = "/api/v1/sites/news/comments"
    base = '{"thread": "/t", "author_name": "Ana", "email": "ana@example.org", "body": "hi"'
    cases = [
        (base.replace('"hi"', '"a \\ud800 lone surrogate"') + "}", "body"),
        (base.replace('"hi"', '"a \\u202e reversed"') + "}", "body"),
        (base.replace('"hi"', '"a \\u0000 NUL"') + "}", "body"),
        (base.replace("ana@example.org", "ana\\udc00@example.org") + "}", "email"),
        (base + ', "website": "https://example.org/\\ud800"}', "website"),
        (base + ', "thread_title": "x\\ud800"}', "thread_title"),
    ]
    for body, field in cases:
        _refused(_raw_json(client, "POST", comments, body), field)
    _refused(_raw_json(client, "POST", "/api/v1/sites/news/preview", '{"body": "\\udfff"}'), "body")
    reveal = _raw_json(
        client,
        "POST",
        "/api/v1/moderation/subjects/export",
        '{"email": "a\\ud800@example.org", "purpose": "a subject request"}',
        **auth(token),
    )
    _refused(reveal, "email")
    own = _raw_json(
        client,
        "POST",
        "/api/v1/sites/news/privacy/export",
        '{"comments": [{"comment_id": 1, "edit_token": "\\ud800"}]}',
    )
    _refused(own, "comments.0.edit_token")
    assert len(client.get(comments, params={"thread": "/t"}).json()["comments"]) == 0


def test_moderator_reason_and_category_are_checked(
    client: TestClient, db: Database, token: str
) -> None:
    """S-MOD-3, U-BIDI-1: a decision's reason refuses control characters (tab and newline are
    fine); its category, published to readers and in the transparency report, is one plain
    line: control characters and bidi controls are refused, and nothing is changed."""
    url = "/api/v1/moderation/comments/1/decision"
    for reason in ("spam\x00", "spam\x1b[31m", "spam\u202e", "spam\ud800"):
        body = json.dumps({"action": "reject", "reason": reason})
        _refused(_raw_json(client, "POST", url, body, **auth(token)), "reason")
    for category in ("off\x07topic", "off\ntopic", "off\u202etopic", "off\u2066topic", "\ud800"):
        body = json.dumps({"action": "reject", "reason": "off topic", "category": category})
        _refused(_raw_json(client, "POST", url, body, **auth(token)), "category")
    fine = {"action": "reject", "reason": "line one\n\tline two", "category": "off topic"}
    assert client.post(url, json=fine, headers=auth(token)).status_code == 200
    with db.read() as session:
        events = session.exec(select(ModerationEvent).where(ModerationEvent.comment_id == 1))
        assert [e.action for e in events if e.actor == Actor.MODERATOR.value] == ["reject"]


def test_a_bad_policy_text_is_refused_before_anything_is_stored(
    client: TestClient, db: Database, token: str
) -> None:
    """S-AUDIT-1, U-ROUNDTRIP-1: a lone surrogate, NUL or control character anywhere in a
    policy (a word, a domain, a key) is 422 naming where, and neither the policy nor the event
    log changes (a lone surrogate in a word used to be committed, then answered 500)."""
    url = "/api/v1/moderation/sites/news/policy"
    before = client.get(url, headers=auth(token)).json()
    events_before = client.get(
        "/api/v1/moderation/events", params={"site": "news"}, headers=auth(token)
    )
    bodies = [
        ('{"policy": {"blocked_words": ["ok", "bad\\ud800"]}, "reason": "r"}', "policy"),
        ('{"policy": {"suspect_words": ["nul\\u0000"]}, "reason": "r"}', "policy"),
        ('{"policy": {"blocked_domains": ["evil\\u202e.com"]}, "reason": "r"}', "policy"),
        ('{"policy": {"bad\\ud800key": 1}, "reason": "r"}', "policy"),
        ('{"policy": {"rate_limits": {"ip\\u0000": null}}, "reason": "r"}', "policy"),
        ('{"policy": {"mode": "publish"}, "reason": "because\\ud800"}', "reason"),
    ]
    for body, field in bodies:
        _refused(_raw_json(client, "PUT", url, body, **auth(token)), field)
        trial = _raw_json(
            client,
            "POST",
            url + "/trial",
            body.replace('"reason": "r"', '"limit": 5'),
            **auth(token),
        )
        if field == "policy":
            _refused(trial, field)
    assert client.get(url, headers=auth(token)).json() == before
    events_after = client.get(
        "/api/v1/moderation/events", params={"site": "news"}, headers=auth(token)
    )
    assert events_after.json() == events_before.json()
    reset = _raw_json(
        client,
        "POST",
        "/api/v1/moderation/sites/news/spam-model/reset",
        '{"reason": "\\ud800"}',
        **auth(token),
    )
    _refused(reset, "reason")


def test_non_ascii_form_tokens_are_refused_quietly(client: TestClient, db: Database) -> None:
    """S-CSRF-2: a form token that is not ASCII is a wrong token (the comment is held or
    refused by the site's policy), never a 500 from comparing it."""
    make_site(db, policy={"mode": "publish", "require_form_token": True})
    for forged in ("v1.1.é", "v1.²³.abc", "v1.1.\ud800", "v1.١٢٣.abc"):
        body = json.dumps(
            {
                "thread": "/t",
                "author_name": "Ana",
                "email": "ana@example.org",
                "body": "Hello there, a reply.",
                "form_token": forged,
            }
        )
        response = _raw_json(client, "POST", "/api/v1/sites/news/comments", body)
        assert response.status_code < 500, response.text
        if response.status_code == 201:
            assert response.json()["status"] != "approved"


def _poison(db: Database) -> None:
    """What an older release let through: a lone surrogate and control characters in a
    policy word, in an append-only event and in a decision's category, stored as they came."""
    with db.write() as session:
        site = session.exec(select(Site).where(Site.slug == "news")).one()
        assert site.id is not None
        site.policy = {**site.policy, "blocked_words": ["fine", "bad\ud800word"]}
        session.add(site)
        append_event(
            session,
            site_id=site.id,
            actor=Actor.MODERATOR,
            moderator_id=None,
            action="policy_change",
            at=site.created_at,
            reason="words\x07",
            details={"after": {"blocked_words": ["bad\ud800word"]}, "category": "spam\ud800"},
        )
        comment = session.get(Comment, 1)
        assert comment is not None
        comment.moderation = {**comment.moderation, "actor": "moderator", "category": "x\ud800\x1b"}
        comment.status = "rejected"
        session.add(comment)
        session.commit()


def test_an_event_stored_with_an_unencodable_value_stays_readable_and_verifiable(
    client: TestClient,
    db: Database,
    token: str,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """S-AUDIT-1: the log is append-only, so an event already stored with a lone surrogate
    cannot be corrected. It is shown with the character escaped (``\\ud800``), while its hash,
    computed over the stored value, still verifies; the policy holding the same word is shown
    and used the same way, and a new policy can replace it."""
    assert post_comment(client, parent_id=1, body="A reply keeps a placeholder").status_code == 201
    _poison(db)
    moderator = auth(token)
    events = client.get("/api/v1/moderation/events", params={"site": "news"}, headers=moderator)
    assert events.status_code == 200, events.text
    poisoned = next(e for e in events.json()["items"] if e["action"] == "policy_change")
    assert poisoned["details"]["after"]["blocked_words"] == ["bad\\ud800word"]
    assert poisoned["reason"] == "words\\u0007"
    with db.read() as session:
        report = verify_logs(session)
    assert report.ok, report.problems
    assert report.events_checked == len(events.json()["items"])
    monkeypatch.setenv("MARGIN_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("MARGIN_KEY_FILE", str(settings.key_file))
    assert main(["audit", "verify"]) == 0, capsys.readouterr()

    policy = client.get("/api/v1/moderation/sites/news/policy", headers=moderator)
    assert policy.status_code == 200, policy.text
    assert "bad\\ud800word" in policy.json()["policy"]["blocked_words"]
    queue = client.get(
        "/api/v1/moderation/comments",
        params={"site": "news", "status": "rejected"},
        headers=moderator,
    )
    assert queue.status_code == 200, queue.text
    assert queue.json()["items"][0]["moderation"]["category"] == "x\\ud800\\u001b"
    public = client.get("/api/v1/sites/news/comments", params={"thread": THREAD})
    assert public.status_code == 200
    assert "\\ud800" in json.dumps(public.json())  # the removed placeholder's reason, escaped
    for url in ("/api/v1/sites/news/transparency", "/api/v1/sites/news/transparency.html"):
        assert client.get(url).status_code == 200
    assert post_comment(client, body="Posting still works on this site.").status_code == 201

    replaced = client.put(
        "/api/v1/moderation/sites/news/policy",
        json={"policy": {"mode": "publish", "blocked_words": ["fine"]}, "reason": "repair"},
        headers=moderator,
    )
    assert replaced.status_code == 200, replaced.text
    assert client.get("/api/v1/moderation/sites/news/policy", headers=moderator).json()["policy"][
        "blocked_words"
    ] == ["fine"]
    with db.read() as session:
        report = verify_logs(session)
    assert report.ok, report.problems
    assert (
        client.get(
            "/api/v1/moderation/events", params={"site": "news"}, headers=moderator
        ).status_code
        == 200
    )


def test_the_openapi_lists_every_error_answer_with_one_shape(client: TestClient) -> None:
    """S-API-1: every API operation documents the 4xx it can answer (and 503), each with the
    shared error body; FastAPI's own validation-error shape, which this app never sends, is
    gone."""
    schema = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    expected = {
        ("post", "/api/v1/sites/{site}/comments"): {
            "400",
            "403",
            "404",
            "409",
            "413",
            "415",
            "422",
            "429",
            "503",
        },
        ("get", "/api/v1/sites/{site}/comments"): {"404", "422", "503"},
        ("post", "/api/v1/moderation/comments/{comment_id}/reveal-email"): {
            "400",
            "401",
            "403",
            "404",
            "413",
            "422",
            "503",
        },
        ("put", "/api/v1/moderation/sites/{site}/policy"): {
            "400",
            "401",
            "404",
            "413",
            "422",
            "503",
        },
        ("delete", "/api/v1/sites/{site}/comments/{comment_id}"): {"403", "404", "422", "503"},
    }
    for (method, path), codes in expected.items():
        answers = schema["paths"][path][method]["responses"]
        assert {c for c in answers if c >= "400"} == codes, (method, path, sorted(answers))
    for path, item in schema["paths"].items():
        if not path.startswith("/api/"):
            continue
        for operation in item.values():
            errors = {c: a for c, a in operation["responses"].items() if c >= "400"}
            assert "503" in errors
            if operation.get("parameters") or "requestBody" in operation:
                assert "422" in errors  # input that can be wrong is answered 422
            for answer in errors.values():
                ref = answer["content"]["application/json"]["schema"]["$ref"]
                assert ref == "#/components/schemas/ErrorBody"
