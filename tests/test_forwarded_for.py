"""D-RATE-1, P-MIN-1: the client's address behind the trusted proxy. A forwarded value that is
not an IP address never becomes the client: the proxy's own address is used (and counted by the
IP flood limit), or, when there is none to fall back on, the request is refused with 400."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from service.db import Database
from tests.factories import ORIGIN, comment_payload, make_site

PROXY = "127.0.0.1"  # the default MARGIN_FORWARDED_ALLOW_IPS
IP_LIMIT_TWO = {
    "mode": "publish",
    "require_form_token": False,
    "rate_limits": {"ip": {"limit": 2, "window_seconds": 60}, "author": None, "thread": None},
}


def _from(client: TestClient, peer: str) -> TestClient:
    return TestClient(client.app, base_url="http://margin.test", client=(peer, 40000))


def _post(reader: TestClient, n: int, forwarded: str | None) -> int:
    headers = {"Origin": ORIGIN}
    if forwarded is not None:
        headers["X-Forwarded-For"] = forwarded
    response = reader.post(
        "/api/v1/sites/news/comments",
        json=comment_payload(
            author_name=f"Reader {n}",
            email=f"reader{n}@example.org",
            body=f"Comment number {n} on the council's budget.",
        ),
        headers=headers,
    )
    return response.status_code


def _prefixes(db: Database) -> list[str | None]:
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT ip_prefix FROM comments ORDER BY id")).all()
    return [r[0] for r in rows]


@pytest.mark.parametrize("value", ["unknown", "_hidden", "not-an-address", "203.0.113.9:http"])
def test_a_non_address_from_the_proxy_counts_as_the_proxy(
    client: TestClient, db: Database, caplog: pytest.LogCaptureFixture, value: str
) -> None:
    """D-RATE-1: ``X-Forwarded-For: unknown`` from the trusted proxy used to become the client
    "address", which has no prefix: the IP flood limit was skipped for every such request.
    Now the requests keep the proxy's address, the limit counts them, and the log says why."""
    make_site(db, policy=IP_LIMIT_TWO)
    proxy = _from(client, PROXY)
    with caplog.at_level(logging.WARNING, logger="margin.http"):
        statuses = [_post(proxy, n, value) for n in range(3)]
    assert statuses == [201, 201, 429], "the IP limit applies: to the proxy's address"
    assert _prefixes(db) == ["127.0.0.0/24", "127.0.0.0/24"]
    warnings = [r for r in caplog.records if "X-Forwarded-For" in r.getMessage()]
    assert warnings, "a misconfigured proxy is reported, not silently absorbed"
    assert value not in warnings[0].getMessage(), "the header's text is not logged"


def test_a_real_address_from_the_proxy_is_the_client(client: TestClient, db: Database) -> None:
    """D-RATE-1: behind the trusted proxy each reader is counted on their own address; a
    forged entry left of the proxy's own is not believed (right-most untrusted entry)."""
    make_site(db, policy=IP_LIMIT_TWO)
    proxy = _from(client, PROXY)
    assert _post(proxy, 0, "203.0.113.9") == 201
    assert _post(proxy, 1, "unknown, 198.51.100.4") == 201
    assert _post(proxy, 2, "192.0.2.1, 2001:db8:5::1") == 201
    assert _prefixes(db) == ["203.0.113.0/24", "198.51.100.0/24", "2001:db8:5::/48"]


def test_an_untrusted_peer_cannot_choose_its_address(client: TestClient, db: Database) -> None:
    """D-RATE-1: X-Forwarded-For from anyone but the configured proxies is ignored."""
    make_site(db, policy=IP_LIMIT_TWO)
    direct = _from(client, "198.51.100.20")
    statuses = [_post(direct, n, f"203.0.113.{n}") for n in range(3)]
    assert statuses == [201, 201, 429]
    assert _prefixes(db) == ["198.51.100.0/24", "198.51.100.0/24"]


def test_no_address_to_fall_back_on_is_refused(client: TestClient, db: Database) -> None:
    """D-RATE-1: when the connection itself has no IP address (the server already replaced it
    with the header's text, or a socket without one), a forwarded non-address is refused with
    400 rather than letting the request through unlimited."""
    make_site(db, policy=IP_LIMIT_TWO)
    rewritten = _from(client, "unknown")
    response = rewritten.post(
        "/api/v1/sites/news/comments",
        json=comment_payload(),
        headers={"Origin": ORIGIN, "X-Forwarded-For": "unknown"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_forwarded_for"
    assert _prefixes(db) == []
