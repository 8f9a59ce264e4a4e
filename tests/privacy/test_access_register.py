"""S-AUDIT-1: every reveal is in the access register; both logs are append-only (triggers; on
PostgreSQL also the app role's grants) and hash-chained, and `margin audit verify` sees edits."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from service.db import Database
from service.privacy.audit import app_role_sql, verify_logs
from tests.factories import auth, make_moderator, make_site, post_comment
from tests.privacy.helpers import ip_client

EMAIL = "reveal.me@example.org"


def _reveal(client: TestClient, token: str, comment_id: int, category: str = "legal") -> None:
    response = client.post(
        f"/api/v1/moderation/comments/{comment_id}/reveal-email",
        json={"purpose": "court order 2026/17 for the author's identity", "category": category},
        headers=auth(token),
    )
    assert response.status_code == 200, response.text


def test_reveals_are_recorded_listed_per_site_and_exported(
    client: TestClient, db: Database
) -> None:
    make_site(db)
    make_site(db, "blog")
    pii = make_moderator(db, "news", pii=True, name="Officer")
    plain = make_moderator(db, "news")
    blog_only = make_moderator(db, "blog")
    created = post_comment(ip_client(client), email=EMAIL).json()
    post_comment(ip_client(client), email="same.address@example.org", body="same network")
    _reveal(client, pii, created["id"], "government")
    ip = client.post(
        f"/api/v1/moderation/comments/{created['id']}/reveal-ip",
        json={"purpose": "checking for sock puppets", "category": "abuse"},
        headers=auth(pii),
    )
    assert ip.status_code == 200 and ip.json()["same_address_comment_ids"] == [created["id"] + 1]
    assert (
        client.post(
            f"/api/v1/moderation/comments/{created['id']}/reveal-ip",
            json={"purpose": "checking for sock puppets", "category": "abuse"},
            headers=auth(plain),
        ).status_code
        == 403
    )
    items = client.get(
        "/api/v1/moderation/access", params={"site": "news"}, headers=auth(plain)
    ).json()["items"]
    assert [(e["kind"], e["category"], e["comment_id"]) for e in items] == [
        ("ip", "abuse", created["id"]),
        ("email", "government", created["id"]),
    ]
    assert items[1]["purpose"].startswith("court order") and items[1]["moderator_id"] == 1
    assert EMAIL not in str(items)
    assert (
        client.get(
            "/api/v1/moderation/access", params={"site": "news"}, headers=auth(blog_only)
        ).status_code
        == 404
    )
    # The reader's own export shows who looked, when and why.
    export = client.post(
        "/api/v1/sites/news/privacy/export",
        json={"comments": [{"comment_id": created["id"], "edit_token": created["edit_token"]}]},
        headers={"Origin": "https://news.example.org"},
    ).json()
    assert [(e["kind"], e["category"]) for e in export["access_register"]] == [
        ("email", "government"),
        ("ip", "abuse"),
    ]


@pytest.mark.parametrize("table", ["moderation_events", "pii_access"])
def test_logs_refuse_update_and_delete(client: TestClient, db: Database, table: str) -> None:
    make_site(db)
    pii = make_moderator(db, "news", pii=True)
    _reveal(client, pii, post_comment(client).json()["id"])
    for statement in (f"UPDATE {table} SET created_at = created_at", f"DELETE FROM {table}"):
        with db.write() as session, pytest.raises(DBAPIError, match="append-only"):  # noqa: PT012
            session.execute(text(statement))
            session.commit()


def _tamper(db: Database, table: str, assignment: str) -> None:
    """What someone with the database owner's rights could do: bypass the guard and edit."""
    with db.engine.connect() as conn:
        if db.is_sqlite:
            conn.execute(text(f"DROP TRIGGER {table}_no_update"))
            conn.execute(text(f"UPDATE {table} SET {assignment} WHERE id = 1"))
        else:
            conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only"))
            conn.execute(text(f"UPDATE {table} SET {assignment} WHERE id = 1"))
            conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only"))
        conn.commit()


@pytest.mark.parametrize(
    ("table", "assignment", "needle"),
    [
        ("moderation_events", "reason = 'nothing to see'", "event 1: content"),
        ("pii_access", "purpose = 'routine check, honestly'", "access entry 1: content"),
        ("pii_access", "category = 'moderation'", "access entry 1: content"),
    ],
)
def test_audit_verify_detects_edits(
    client: TestClient, db: Database, table: str, assignment: str, needle: str
) -> None:
    make_site(db)
    pii = make_moderator(db, "news", pii=True)
    cid = post_comment(client).json()["id"]
    _reveal(client, pii, cid)
    _reveal(client, pii, cid)
    with db.read() as session:
        report = verify_logs(session)
    assert report.ok and report.access_checked == 2 and report.events_checked == 3
    _tamper(db, table, assignment)
    with db.read() as session:
        report = verify_logs(session)
    assert not report.ok and any(needle in p for p in report.problems), report.problems


def test_postgres_app_role_cannot_update_or_delete_the_logs(postgres_url: str) -> None:
    """Besides the triggers: the role the service runs as has only SELECT and INSERT on the logs."""
    role = f"margin_app_{uuid.uuid4().hex[:8]}"
    dsn = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    database = dsn.rsplit("/", 1)[1]
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} NOLOGIN")
        try:
            for statement in app_role_sql(role, database=database):
                admin.execute(statement)
            admin.execute(
                "INSERT INTO sites (slug, name, allowed_origins, policy, created_at) VALUES ('r', 'R', '[]', '{}', now())"
            )
            site_id = admin.execute("SELECT id FROM sites WHERE slug = 'r'").fetchone()[0]  # type: ignore[index]
            with admin.transaction():
                admin.execute(f"SET LOCAL ROLE {role}")
                admin.execute(
                    "INSERT INTO pii_access (site_id, actor, kind, category, purpose, created_at, prev_hash, row_hash) "
                    "VALUES (%s, 'admin', 'email', 'legal', 'p', now(), '', '')",
                    (site_id,),
                )
                assert (
                    admin.execute(
                        "SELECT count(*) FROM pii_access WHERE purpose = %s", ("p",)
                    ).fetchone()[0]
                    >= 1
                )  # type: ignore[index]
            for table in ("moderation_events", "pii_access"):
                for statement in (
                    f"UPDATE {table} SET created_at = now()",
                    f"DELETE FROM {table}",
                    f"TRUNCATE {table}",
                ):
                    with (  # noqa: PT012
                        pytest.raises(psycopg.errors.InsufficientPrivilege),
                        admin.transaction(),
                    ):
                        admin.execute(f"SET LOCAL ROLE {role}")
                        admin.execute(statement)
            # The working tables stay fully usable.
            with admin.transaction():
                admin.execute(f"SET LOCAL ROLE {role}")
                admin.execute("UPDATE sites SET name = 'R2' WHERE id = %s", (site_id,))
        finally:
            admin.execute("TRUNCATE sites, pii_access RESTART IDENTITY CASCADE")
            admin.execute(f"DROP OWNED BY {role}")
            admin.execute(f"DROP ROLE {role}")
