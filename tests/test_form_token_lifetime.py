"""D-RATE-2 and the checklist's business limits (ASVS 2.4.2, minimum time between rendering the
form and posting): form tokens are short-lived (an hour, not a day), bound to one article of one
site, and not spent by a refused post."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from service.comments import formtoken
from service.db import Database
from tests.conftest import FrozenClock
from tests.factories import make_site, post_comment

THREAD = "/2020/12/18/zoom-data"
NO_LIMITS: dict[str, Any] = {"ip": None, "author": None, "thread": None}
HELD = (
    "it was sent without a valid comment form (for example from a page that was open for more"
    " than an hour)"
)


def _token(client: TestClient, thread: str = THREAD) -> str:
    response = client.get("/api/v1/sites/news/form-token", params={"thread": thread})
    assert response.status_code == 200
    token: str = response.json()["token"]
    return token


def test_a_token_lasts_an_hour_not_a_day(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    """A harvested token stops working after an hour (it used to work for 24): the comment is
    held for review, the same as one sent without a form."""
    make_site(db, policy={"mode": "publish", "rate_limits": NO_LIMITS})
    fresh, stale = _token(client), _token(client, "/other")
    clock.advance(minutes=59)
    in_time = post_comment(client, body="Written over most of an hour.", form_token=fresh)
    assert in_time.status_code == 201
    assert in_time.json()["status"] == "approved", in_time.json()["reason"]
    clock.advance(seconds=120)
    late = post_comment(
        client,
        body="Sent with a token issued an hour and a minute ago.",
        thread="/other",
        email="late@example.org",
        form_token=stale,
    )
    assert late.status_code == 201
    assert late.json()["status"] == "pending"
    assert late.json()["reason"] == HELD
    clock.advance(hours=22)
    day_old = post_comment(
        client,
        body="Sent with a token from yesterday.",
        email="day@example.org",
        form_token=fresh,
    )
    assert day_old.json()["status"] == "pending", "a day-old token is no form proof"


def test_a_refused_post_does_not_spend_the_token(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    """The widget keeps its token after an error (422, 409, 429) and sends it again with the
    corrected comment: that second post is judged on the same form time and published."""
    make_site(db, policy={"mode": "publish", "rate_limits": NO_LIMITS})
    token = _token(client)
    clock.advance(seconds=90)
    refused = post_comment(client, body="A reply to nothing.", parent_id=999_999, form_token=token)
    assert refused.status_code == 422
    retried = post_comment(client, body="A reply to nothing.", form_token=token)
    assert retried.status_code == 201
    assert retried.json()["status"] == "approved", retried.json()["reason"]


def test_a_token_is_bound_to_its_site_and_article(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    make_site(db, policy={"mode": "publish", "rate_limits": NO_LIMITS})
    make_site(db, "blog", policy={"mode": "publish", "rate_limits": NO_LIMITS})
    blog = client.get("/api/v1/sites/blog/form-token", params={"thread": THREAD}).json()["token"]
    other_article = _token(client, "/another/article")
    clock.advance(seconds=90)
    for n, token in enumerate((blog, other_article)):
        response = post_comment(client, body=f"Using token number {n}.", form_token=token)
        assert response.json()["status"] == "pending"
        assert response.json()["reason"] == HELD


def test_verify_bounds() -> None:
    key = b"k" * 32
    token = formtoken.issue(key, "news", THREAD, 1_000_000.0)
    assert formtoken.verify(key, "news", THREAD, token, 1_000_000.0 + 3600) == 1_000_000.0
    assert formtoken.verify(key, "news", THREAD, token, 1_000_000.0 + 3601) is None
    assert formtoken.verify(key, "news", THREAD, token, 1_000_000.0 - 5) == 1_000_000.0
    assert formtoken.verify(key, "news", THREAD, token, 1_000_000.0 - 6) is None
