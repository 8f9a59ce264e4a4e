"""The public transparency report: monthly counts, automatic vs human, access by category, no PII."""

from __future__ import annotations

from fastapi.testclient import TestClient

from service.db import Database
from tests.conftest import FrozenClock
from tests.factories import ORIGIN, auth, decide, make_moderator, make_site, post_comment

NAME = "Wilhelmina Transparent"
EMAIL = "wilhelmina@example.org"


def test_monthly_counts_without_personal_data(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    make_site(db, policy={"mode": "premoderate_all", "require_form_token": False})
    mod = make_moderator(db, "news", pii=True)
    # November: three received, all held; one approved, one rejected by a moderator.
    bodies = [
        "A careful point about the budget.",
        "Which year was this?",
        "Thanks for the sources.",
    ]
    ids = []
    for i, body in enumerate(bodies):
        clock.advance(minutes=30)  # well apart: no flood limit applies
        response = post_comment(client, author_name=f"{NAME} {i}", email=f"w{i}.{EMAIL}", body=body)
        assert response.status_code == 201 and response.json()["status"] == "pending", response.text
        ids.append(response.json()["id"])
    assert decide(client, mod, ids[0], "approve", "fine").status_code == 200
    assert (
        client.post(
            f"/api/v1/moderation/comments/{ids[1]}/decision",
            json={"action": "reject", "reason": f"insults {NAME}", "category": "incivility"},
            headers=auth(mod),
        ).status_code
        == 200
    )
    client.post(
        f"/api/v1/moderation/comments/{ids[2]}/reveal-email",
        json={"purpose": "police request about a threat", "category": "government"},
        headers=auth(mod),
    )
    # December: one more, spam by a moderator; the author erases their data.
    clock.advance(days=10)
    later = post_comment(client, author_name=NAME, email=EMAIL, body="december").json()
    assert decide(client, mod, later["id"], "spam", "advert").status_code == 200
    response = client.get("/api/v1/sites/news/transparency", params={"months": 2})
    assert response.status_code == 200, response.text
    months = {m["month"]: m for m in response.json()["months"]}
    nov, dec = months["2026-11"], months["2026-12"]
    assert (nov["received"], nov["held"], nov["published"]) == (3, 3, 1)
    assert nov["removed"] == {
        "total": 1,
        "automatic": 0,
        "human": 1,
        "by_reason": {"incivility": 1},
    }
    assert nov["personal_data_access"] == {"government": 1}
    assert (dec["received"], dec["held"]) == (1, 1)
    assert dec["removed"] == {"total": 1, "automatic": 0, "human": 1, "by_reason": {"spam": 1}}
    assert response.headers["cache-control"].startswith("public")
    page = client.get("/api/v1/sites/news/transparency.html", params={"months": 2})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert (
        "November 2026" in page.text
        and "incivility: 1" in page.text
        and "government: 1" in page.text
    )
    for text in (response.text, page.text):
        assert (
            NAME not in text
            and EMAIL not in text
            and "insults" not in text
            and "police" not in text
        )
        assert "careful point" not in text


def test_automatic_removals_are_counted_by_rule(client: TestClient, db: Database) -> None:
    make_site(db, policy={"mode": "publish", "require_form_token": False})
    post_comment(client, body="hello")
    post_comment(client, body="spam", honeypot="filled by a bot")
    report = client.get("/api/v1/sites/news/transparency", params={"months": 1}).json()
    month = report["months"][-1]
    assert month["received"] == 2 and month["published"] >= 1
    removed_or_held = month["removed"]["automatic"] + month["held"]
    assert removed_or_held >= 1
    assert client.get("/api/v1/sites/nope/transparency").status_code == 404


def test_removals_are_counted_by_the_rule_that_decided(client: TestClient, db: Database) -> None:
    """Each automatic removal is counted under the check that decided it (not just "spam" or
    "rejected"); published and held are counted exactly."""
    policy = {
        "mode": "publish",
        "require_form_token": False,
        "blocked_words": ["idiot"],
        "dry_run": ["spam_filter"],  # the rules alone decide, not the learned filter
    }
    make_site(db, policy=policy)
    assert post_comment(client, body="hello").json()["status"] == "approved"
    bot = post_comment(client, body="spam", honeypot="filled by a bot", email="bot@example.org")
    assert bot.json()["status"] == "spam"
    rude = post_comment(client, body="what an idiot", email="rude@example.org")
    assert rude.json()["status"] == "rejected"
    report = client.get("/api/v1/sites/news/transparency", params={"months": 1}).json()
    month = report["months"][-1]
    assert (month["received"], month["published"], month["held"]) == (3, 1, 0)
    assert month["removed"] == {
        "total": 2,
        "automatic": 2,
        "human": 0,
        "by_reason": {"honeypot": 1, "blocked_word": 1},
    }


def test_author_deletions_erasures_and_exports_are_counted_apart(
    client: TestClient, db: Database
) -> None:
    """An author deleting their own comment is not a removal by moderation; an erasure counts
    its comments; one export of several comments is one access to personal data."""
    make_site(db, policy={"mode": "publish", "require_form_token": False})
    mod = make_moderator(db, "news", pii=True)
    first = post_comment(client, body="first words", email="a@example.org").json()
    second = post_comment(client, body="second words", email="b@example.org").json()
    third = post_comment(client, body="third words", email="b@example.org").json()
    origin = {"Origin": ORIGIN}
    deleted = client.delete(
        f"/api/v1/sites/news/comments/{first['id']}",
        headers={"X-Edit-Token": first["edit_token"], **origin},
    )
    assert deleted.status_code == 204
    assert decide(client, mod, second["id"], "reject", "off topic").status_code == 200
    export = client.post(
        "/api/v1/moderation/subjects/export",
        json={
            "email": "b@example.org",
            "purpose": "the author asked for a copy",
            "category": "subject_request",
        },
        headers=auth(mod),
    )
    assert export.status_code == 200 and len(export.json()["comments"]) == 2
    owned = [{"comment_id": third["id"], "edit_token": third["edit_token"]}]
    erase = client.post(
        "/api/v1/sites/news/privacy/erase", json={"comments": owned}, headers=origin
    )
    assert erase.status_code == 200
    month = client.get("/api/v1/sites/news/transparency", params={"months": 1}).json()["months"][-1]
    assert month["deleted_by_author"] == 1
    assert month["removed"] == {
        "total": 1,
        "automatic": 0,
        "human": 1,
        "by_reason": {"reject": 1},  # no category given: the action names it
    }
    assert month["erased_on_request"] == 1
    assert month["personal_data_access"] == {"subject_request": 1}
