"""S-MOD-2, D-RATE-1: reader reports are counted per network prefix, not per address."""

from __future__ import annotations

from fastapi.testclient import TestClient

from service.db import Database
from tests.factories import ORIGIN, auth, make_moderator, make_site, post_comment


def _flag(client: TestClient, ip: str, cid: int) -> int:
    reader = TestClient(client.app, base_url="http://margin.test", client=(ip, 40000))
    response = reader.post(
        f"/api/v1/sites/news/comments/{cid}/flags",
        json={"category": "abuse"},
        headers={"Origin": ORIGIN},
    )
    return response.status_code


def _listed(client: TestClient, token: str, **params: str) -> list[dict[str, object]]:
    items: list[dict[str, object]] = client.get(
        "/api/v1/moderation/comments", params={"site": "news", **params}, headers=auth(token)
    ).json()["items"]
    return items


def _flag_count(client: TestClient, token: str) -> int:
    [item] = _listed(client, token, status="approved")
    return int(str(item["flag_count"]))


def test_three_addresses_of_one_subnet_count_once(client: TestClient, db: Database) -> None:
    """S-MOD-2: one reader rotating through addresses of their /24 (or /48) cannot make a
    comment look reported by three readers; three different networks do count three."""
    make_site(db, policy={"mode": "publish", "require_form_token": False, "flags_to_review": 3})
    token = make_moderator(db, "news")
    cid = post_comment(client).json()["id"]
    for ip in ("203.0.113.5", "203.0.113.77", "203.0.113.200"):
        assert _flag(client, ip, cid) == 202, "each report is acknowledged alike"
    for ip in ("2001:db8:1:aa::1", "2001:db8:1:bb::2"):  # one /48
        assert _flag(client, ip, cid) == 202
    assert _flag_count(client, token) == 2, "one /24 and one /48: two reporters"
    assert _listed(client, token, flagged="true") == [], "below the review threshold"
    assert _flag(client, "198.51.100.9", cid) == 202
    assert _flag_count(client, token) == 3, "a third network counts"
    assert [i["id"] for i in _listed(client, token, flagged="true")] == [cid]
