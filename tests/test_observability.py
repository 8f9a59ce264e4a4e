"""Metrics and logs: useful to operators, silent about people (P-EMAIL-2)."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from service.db import Database
from service.observability import JsonFormatter
from tests.factories import ORIGIN, auth, decide, make_moderator, make_site, post_comment

EMAIL = "Private.Person@example.org"
IP = "203.0.113.77"


def _metrics(client: TestClient) -> str:
    # Without MARGIN_METRICS_TOKEN metrics are answered on loopback only (test_metrics_access).
    local = TestClient(client.app, base_url="http://margin.test", client=("127.0.0.1", 40000))
    response = local.get("/metrics")
    assert response.status_code == 200
    return response.text


def test_metrics_expose_latency_decisions_and_queue_depth(client: TestClient, db: Database) -> None:
    make_site(db, policy={"mode": "premoderate_all", "require_form_token": False})
    token = make_moderator(db, "news")
    first = post_comment(client).json()
    post_comment(client, body="second one", email="two@example.org")
    decide(client, token, first["id"])
    client.get("/api/v1/sites/news/comments", params={"thread": "t"})
    text = _metrics(client)
    assert 'margin_queue_depth{site="news"} 1.0' in text
    assert 'route="/api/v1/sites/{site}/comments"' in text
    assert 'margin_comments_total{decision="pending"}' in text
    assert 'margin_moderator_decisions_total{action="approve"}' in text
    assert "margin_spam_filter_seconds_count" in text


def test_request_ids_are_echoed_or_made(client: TestClient) -> None:
    assert (
        client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"]
        == "abc-123"
    )
    made = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces\n"}).headers[
        "x-request-id"
    ]
    assert made != "bad id with spaces\n" and len(made) == 16


def test_logs_and_metrics_hold_no_email_token_or_ip(
    client: TestClient, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """P-EMAIL-2: a whole flow with an email, an IP, edit and moderator tokens leaves none of
    them in any log line or metric."""
    make_site(db, policy={"mode": "premoderate_all", "require_form_token": False})
    moderator = make_moderator(db, "news", pii=True)
    reader = TestClient(client.app, base_url="http://margin.test", client=(IP, 40000))
    caplog.set_level(logging.DEBUG)
    created = post_comment(reader, email=EMAIL).json()
    edit_token = created["edit_token"]
    reader.get(
        f"/api/v1/sites/news/comments/{created['id']}/own", headers={"X-Edit-Token": edit_token}
    )
    reader.patch(
        f"/api/v1/sites/news/comments/{created['id']}",
        json={"body": "edited"},
        headers={"Origin": ORIGIN, "X-Edit-Token": edit_token},
    )
    client.post(
        f"/api/v1/moderation/comments/{created['id']}/reveal-email",
        json={"purpose": "checking an abuse report", "category": "abuse"},
        headers=auth(moderator),
    )
    post_comment(reader, email="not an email")  # a 422 echoes nothing into logs either
    formatter = JsonFormatter()
    lines = [formatter.format(record) for record in caplog.records]
    assert any('"route": "/api/v1/sites/{site}/comments"' in line for line in lines)
    blob = "\n".join(lines) + _metrics(client)
    for secret in (EMAIL, EMAIL.lower(), edit_token, moderator, IP, "203.0.113"):
        assert secret not in blob
