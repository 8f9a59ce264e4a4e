"""Public pages are cached and validated by thread version: 304s, and never stale, even when
another worker changed the thread."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.comments import fastpath
from service.db import Database
from service.settings import Settings
from tests.conftest import FrozenClock
from tests.factories import ORIGIN, decide, make_moderator, make_site, post_comment

THREAD = "/2020/12/18/zoom-data"
URL = "/api/v1/sites/news/comments"


def test_etag_and_304(client: TestClient, db: Database) -> None:
    make_site(db)
    post_comment(client)
    first = client.get(URL, params={"thread": THREAD})
    etag = first.headers["etag"]
    assert "max-age" in first.headers["cache-control"]
    assert "stale-while-revalidate" in first.headers["cache-control"]
    again = client.get(URL, params={"thread": THREAD}, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    other_params = client.get(
        URL, params={"thread": THREAD, "sort": "newest"}, headers={"If-None-Match": etag}
    )
    assert other_params.status_code == 200


def test_every_visible_change_invalidates(client: TestClient, db: Database) -> None:
    make_site(db)
    token = make_moderator(db, "news")
    created = post_comment(client, body="original").json()
    headers = {"Origin": ORIGIN, "X-Edit-Token": created["edit_token"]}
    seen = [client.get(URL, params={"thread": THREAD})]
    client.patch(f"{URL}/{created['id']}", json={"body": "edited"}, headers=headers)
    seen.append(client.get(URL, params={"thread": THREAD}))
    assert "edited" in seen[-1].text
    decide(client, token, created["id"], "reject", "no")
    seen.append(client.get(URL, params={"thread": THREAD}))
    assert seen[-1].json()["comments"] == []
    decide(client, token, created["id"], "approve", "yes after all")
    seen.append(client.get(URL, params={"thread": THREAD}))
    etags = [r.headers["etag"] for r in seen]
    assert len(set(etags)) == len(etags)


def test_two_workers_never_serve_a_stale_page(
    settings: Settings, db: Database, clock: FrozenClock, client: TestClient
) -> None:
    """A second app on the same database (another worker, its own cache) sees changes at once."""
    make_site(db, policy={"mode": "premoderate_all", "require_form_token": False})
    token = make_moderator(db, "news")
    other_app = create_app(settings, clock=clock)
    with TestClient(other_app, base_url="http://margin.test") as other:
        created = post_comment(client).json()
        assert other.get(URL, params={"thread": THREAD}).json()["comments"] == []  # cached, pending
        decide(client, token, created["id"], "approve", "fine")
        assert [c["id"] for c in other.get(URL, params={"thread": THREAD}).json()["comments"]] == [
            created["id"]
        ]
        client.delete(
            f"{URL}/{created['id']}",
            headers={"Origin": ORIGIN, "X-Edit-Token": created["edit_token"]},
        )
        assert other.get(URL, params={"thread": THREAD}).json()["comments"] == []
    other_app.state.margin.db.dispose()


def test_a_page_request_seen_before_is_answered_without_routing_with_the_same_answer(
    client: TestClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A query string the route validated before is answered by service.comments.fastpath
    with exactly the route's answer: body, ETag, caching, CORS and security headers, 304 on a
    matching If-None-Match, a fresh page after a commit; a query string never validated is
    still refused by the route, and an error on the fast path leaves the answer to the route."""
    make_site(db)
    post_comment(client, body="first")
    routed: list[bytes] = []
    state = client.app.state.margin  # type: ignore[attr-defined]
    learn = state.pages.learn
    monkeypatch.setattr(
        state.pages,
        "learn",
        lambda slug, query, params: (routed.append(query), learn(slug, query, params)),
    )
    headers = {"Origin": ORIGIN}
    query = {"thread": THREAD, "limit": "10"}
    first = client.get(URL, params=query, headers=headers)
    second = client.get(URL, params=query, headers=headers)
    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    assert {k: v for k, v in second.headers.items() if k != "x-request-id"} == {
        k: v for k, v in first.headers.items() if k != "x-request-id"
    }
    assert second.headers["access-control-allow-origin"] == ORIGIN
    assert second.headers["x-content-type-options"] == "nosniff"
    not_modified = client.get(
        URL, params=query, headers={**headers, "If-None-Match": first.headers["etag"]}
    )
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    post_comment(client, body="second")  # a commit: validated by the thread's version again
    after = client.get(URL, params=query, headers=headers)
    assert ["first" in c["html"] for c in after.json()["comments"]] == [True, False]
    assert after.headers["etag"] != first.headers["etag"]
    assert len(routed) == 1  # every request after the first was answered before routing

    def broken(*_: object) -> None:
        raise RuntimeError("a fault on the fast path")

    monkeypatch.setattr(fastpath, "answer_page", broken)
    assert client.get(URL, params=query).content == after.content
    assert len(routed) == 2  # the route answered it
    assert client.get(URL, params={"thread": THREAD, "limit": "0"}).status_code == 422


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_postgres_page_checks_survive_a_lost_connection(
    client: TestClient, db: Database, postgres_url: str
) -> None:
    """R-DB-DOWN-1: on PostgreSQL a page's version is read on an autocommit connection of its
    own; when the server drops that connection, the next request reconnects and answers."""
    assert db.loop_reads is not None
    import psycopg

    make_site(db)
    post_comment(client, body="first")
    assert client.get(URL, params={"thread": THREAD}).status_code == 200
    admin = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        killed = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND application_name = '' AND state = 'idle'"
        ).fetchone()
    assert killed is not None and killed[0] >= 1
    post_comment(client, body="second")
    page = client.get(URL, params={"thread": THREAD})
    assert page.status_code == 200
    assert len(page.json()["comments"]) == 2


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_postgres_loop_reads_belong_to_their_event_loop(db: Database) -> None:
    """The event loop's autocommit connections are opened by the loop that uses them; another
    loop (a test client's, a restarted server's) closes them and opens its own."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    reads = db.loop_reads
    assert reads is not None

    async def ask() -> tuple[object, ...] | None:
        return await reads.one("SELECT %(n)s::int", {"n": 7})

    def on_a_new_loop() -> tuple[object, ...] | None:
        # A thread of its own: this test's thread may already run a loop (browser tests').
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(lambda: asyncio.run(ask())).result(timeout=30)

    assert on_a_new_loop() == (7,)
    first = list(reads._idle)
    assert on_a_new_loop() == (7,)
    assert len(first) == 1 and first[0].closed
    assert reads._idle and reads._idle[0] is not first[0]
