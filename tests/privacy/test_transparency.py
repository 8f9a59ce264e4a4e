"""The public transparency report: monthly counts, automatic vs human, access by category, no PII."""

from __future__ import annotations

from fastapi.testclient import TestClient

from service.db import Database
from tests.conftest import FrozenClock
from tests.factories import auth, decide, make_moderator, make_site, post_comment

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
