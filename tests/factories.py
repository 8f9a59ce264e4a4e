"""Plain factory functions with keyword overrides."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from service.clock import system_clock
from service.db import Database
from service.moderators.service import create_moderator
from service.sites.service import create_site

ORIGIN = "https://news.example.org"
OPEN_POLICY: dict[str, Any] = {
    "mode": "publish",
    "require_form_token": False,
    "rate_limits": {"ip": None, "author": None, "thread": None},
}


def make_site(
    db: Database,
    slug: str = "news",
    *,
    origins: list[str] | None = None,
    policy: dict[str, Any] | None = None,
) -> None:
    with db.write() as session:
        create_site(
            session,
            slug=slug,
            name=slug.title(),
            origins=origins if origins is not None else [ORIGIN],
            now=system_clock(),
            policy=policy if policy is not None else dict(OPEN_POLICY),
        )


def make_moderator(db: Database, *sites: str, pii: bool = False, name: str = "Mod") -> str:
    with db.write() as session:
        _, token = create_moderator(
            session, name=name, site_slugs=list(sites), pii=pii, now=system_clock()
        )
    return token


def comment_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "thread": "/2020/12/18/zoom-data",
        "author_name": "Ana Reader",
        "email": "ana.reader@example.org",
        "body": "A thoughtful reply about *meeting data*.",
    }
    payload.update(overrides)
    return {k: v for k, v in payload.items() if v is not None}


def post_comment(
    client: TestClient,
    site: str = "news",
    *,
    origin: str = ORIGIN,
    headers: dict[str, str] | None = None,
    **overrides: Any,
) -> Response:
    return client.post(
        f"/api/v1/sites/{site}/comments",
        json=comment_payload(**overrides),
        headers={"Origin": origin, **(headers or {})},
    )


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def decide(
    client: TestClient, token: str, comment_id: int, action: str = "approve", reason: str = "fine"
) -> Response:
    return client.post(
        f"/api/v1/moderation/comments/{comment_id}/decision",
        json={"action": action, "reason": reason},
        headers=auth(token),
    )


def public_ids(
    client: TestClient, site: str = "news", thread: str = "/2020/12/18/zoom-data", **params: Any
) -> list[int]:
    response = client.get(f"/api/v1/sites/{site}/comments", params={"thread": thread, **params})
    assert response.status_code == 200, response.text
    return [c["id"] for c in response.json()["comments"] if not c["removed"]]
