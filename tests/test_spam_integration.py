"""The learned spam filter inside the service: a check like the others, learning per site
from moderators, durably, and failing safe."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.db import Database
from service.settings import Settings
from service.spam import ModelError
from tests.conftest import FrozenClock
from tests.factories import OPEN_POLICY, auth, decide, make_moderator, make_site, post_comment

SPAMMY = "Check out my channel and subscribe!!! http://bit.ly/free-views"
BORDERLINE = "great article, have a look at the new offer on the page"


def _verdict(client: TestClient, token: str, comment_id: int, status: str) -> dict[str, Any]:
    items = client.get(
        "/api/v1/moderation/comments",
        params={"site": "news", "status": status},
        headers=auth(token),
    ).json()["items"]
    [item] = [i for i in items if i["id"] == comment_id]
    [verdict] = [v for v in item["moderation"]["verdicts"] if v["check"] == "spam_filter"]
    return verdict


def _score(client: TestClient, site: str, body: str) -> float:
    learner = client.app.state.margin.learner  # type: ignore[attr-defined]
    db: Database = client.app.state.margin.db  # type: ignore[attr-defined]
    site_id = client.app.state.margin.sites.get(site).id  # type: ignore[attr-defined]
    with db.read() as session:
        probability: float = learner.score(session, site_id, body, "Some One", None).probability
    return probability


def test_obvious_spam_is_caught_with_reasons_for_moderators(
    client: TestClient, db: Database
) -> None:
    """The filter alone holds obvious spam for a person (issue 20); once a moderator has
    marked the author's spam, the filter and that judgement together bin the next one."""
    make_site(db)
    token = make_moderator(db, "news")
    created = post_comment(client, body=SPAMMY, author_name="Promo King")
    assert created.json()["status"] == "pending"
    assert "spam" not in created.json()["reason"], "a person has not said it is spam yet"
    verdict = _verdict(client, token, created.json()["id"], "pending")
    assert verdict["action"] == "spam" and verdict["evidence"] == "strong"
    assert "subscribe" in verdict["detail"], "the top features are shown to moderators"
    assert decide(client, token, created.json()["id"], "spam", "promo").status_code == 200
    again = post_comment(client, body=SPAMMY + " now", author_name="Promo King")
    assert again.json()["status"] == "spam"
    assert "very likely spam" in again.json()["reason"]
    assert "earlier comment" in again.json()["reason"]
    ham = post_comment(
        client, body="The article's timeline of the data requests is clear.", email="h@example.org"
    )
    assert ham.json()["status"] == "approved"
    assert _verdict(client, token, ham.json()["id"], "approved")["action"] == "approve"


def test_feedback_moves_one_site_survives_restart_and_can_be_undone(
    client: TestClient, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    make_site(db, policy={**OPEN_POLICY, "spam_hold_threshold": 0.99, "spam_threshold": 1.0})
    make_site(db, "other")
    token = make_moderator(db, "news")
    before_news, before_other = (
        _score(client, "news", BORDERLINE),
        _score(client, "other", BORDERLINE),
    )
    ids = [
        post_comment(client, body=f"{BORDERLINE} number {i}", email=f"s{i}@example.org").json()[
            "id"
        ]
        for i in range(6)
    ]
    for cid in ids:
        assert decide(client, token, cid, "spam", "promo spam").status_code == 200
    learned = _score(client, "news", BORDERLINE)
    assert learned > before_news + 0.05
    assert _score(client, "other", BORDERLINE) == pytest.approx(before_other), (
        "other sites unaffected"
    )

    restarted = create_app(settings, clock=clock)  # another worker, or the same after a restart
    with TestClient(restarted, base_url="http://margin.test") as again:
        assert _score(again, "news", BORDERLINE) == pytest.approx(learned)
        for cid in ids:  # the moderator changes their mind: every lesson is undone
            assert (
                decide(again, token, cid, "reject", "not spam, just off topic").status_code == 200
            )
        assert _score(again, "news", BORDERLINE) == pytest.approx(before_news, abs=1e-9)
    restarted.state.margin.db.dispose()
    assert _score(client, "news", BORDERLINE) == pytest.approx(before_news, abs=1e-9)


def test_reset_returns_to_the_shipped_model(client: TestClient, db: Database) -> None:
    make_site(db)
    token = make_moderator(db, "news")
    before = _score(client, "news", BORDERLINE)
    cid = post_comment(client, body=BORDERLINE).json()["id"]
    decide(client, token, cid, "spam", "promo")
    assert _score(client, "news", BORDERLINE) != pytest.approx(before)
    url = "/api/v1/moderation/sites/news/spam-model/reset"
    assert client.post(url, json={"reason": ""}, headers=auth(token)).status_code == 422
    assert client.post(url, json={"reason": "bad lessons"}, headers=auth(token)).status_code == 200
    assert _score(client, "news", BORDERLINE) == pytest.approx(before, abs=1e-9)
    events = client.get(
        "/api/v1/moderation/events", params={"site": "news"}, headers=auth(token)
    ).json()
    assert events["items"][0]["action"] == "spam_model_reset"


def test_a_failing_filter_sends_comments_to_the_queue(
    client: TestClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """R-DEP-1: the classifier failing never publishes and never drops a comment."""
    make_site(db)
    learner = client.app.state.margin.learner  # type: ignore[attr-defined]

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("model exploded")

    monkeypatch.setattr(learner, "score", broken)
    created = post_comment(client, body="an ordinary comment")
    assert created.status_code == 201
    assert created.json()["status"] == "pending"
    assert "automatic filter" in created.json()["reason"]


def test_slow_filter_is_a_hold(
    client: TestClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_site(db)
    state = client.app.state.margin  # type: ignore[attr-defined]
    monkeypatch.setattr(state.settings, "spam_budget_ms", 0)  # every check is over budget
    created = post_comment(client, body="another ordinary comment")
    assert created.json()["status"] == "pending"
    assert "too long" in created.json()["reason"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "not found"),
        (b"\x1f\x8b\x08garbage", "gzip"),
        (b'{"format": "other"}', "not a Margin spam model"),
    ],
)
def test_missing_or_corrupt_model_fails_at_start_up(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    path = tmp_path / "model.json"
    if content is not None:
        path.write_bytes(content)
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'x.db'}", key_file=tmp_path / "k.json", spam_model=path
    )
    with pytest.raises(ModelError, match=message):
        create_app(settings)


def test_truncated_model_fails_at_start_up(tmp_path: Path) -> None:
    from service.spam.cli import DEFAULT_MODEL

    path = tmp_path / "truncated.json.gz"
    path.write_bytes(DEFAULT_MODEL.read_bytes()[:5000])
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'x.db'}", key_file=tmp_path / "k.json", spam_model=path
    )
    with pytest.raises(ModelError):
        create_app(settings)
