"""Several uvicorn workers on one database: flood limits and the read cache hold across them."""

from __future__ import annotations

import asyncio
import http.client
import time
from pathlib import Path

import httpx
import pytest

from service.db import Database
from service.migrate import upgrade
from tests.factories import ORIGIN, comment_payload, make_moderator, make_site
from tests.live import live_server, run_async

THREAD = "/2020/12/18/zoom-data"


@pytest.mark.slow
def test_limits_and_cache_hold_across_workers(database_url: str, tmp_path: Path) -> None:
    upgrade(database_url)
    database = Database(database_url)
    limits = {"ip": None, "thread": None, "author": {"limit": 3, "window_seconds": 3600}}
    make_site(
        database,
        policy={"mode": "premoderate_all", "require_form_token": False, "rate_limits": limits},
    )
    token = make_moderator(database, "news")
    database.dispose()

    async def scenario(base: str) -> None:
        async with httpx.AsyncClient(
            base_url=base, timeout=30, limits=httpx.Limits(max_connections=12)
        ) as client:
            posts = await asyncio.gather(
                *(
                    client.post(
                        "/api/v1/sites/news/comments",
                        json=comment_payload(body=f"flood {i}"),
                        headers={"Origin": ORIGIN},
                    )
                    for i in range(9)
                )
            )
            codes = sorted(r.status_code for r in posts)
            assert codes == [201] * 3 + [429] * 6, codes
            assert all(r.headers["retry-after"] for r in posts if r.status_code == 429)

            url = "/api/v1/sites/news/comments"
            reads = await asyncio.gather(
                *(client.get(url, params={"thread": THREAD}) for _ in range(20))
            )
            assert all(r.json()["comments"] == [] for r in reads)  # every worker has cached "empty"
            created = next(r.json() for r in posts if r.status_code == 201)
            decided = await client.post(
                f"/api/v1/moderation/comments/{created['id']}/decision",
                json={"action": "approve", "reason": "fine"},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert decided.status_code == 200
            reads = await asyncio.gather(
                *(client.get(url, params={"thread": THREAD}) for _ in range(20))
            )
            assert all([c["id"] for c in r.json()["comments"]] == [created["id"]] for r in reads)

    with live_server(database_url, tmp_path / "keys.json", workers=2) as base:
        run_async(lambda: scenario(base))


@pytest.mark.slow
def test_an_idle_connection_outlives_uvicorns_five_second_default(tmp_path: Path) -> None:
    """A client or proxy reusing an idle keep-alive connection is not cut off after 5 s
    (MARGIN_KEEP_ALIVE_SECONDS, default 75): a request racing the server's close would fail
    with "server disconnected" (a proxy would answer 502)."""
    url = f"sqlite:///{tmp_path / 'idle.db'}"
    with live_server(url, tmp_path / "keys.json") as base:
        port = int(base.rsplit(":", 1)[1])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("GET", "/healthz")
            assert conn.getresponse().read() == b'{"status":"ok"}'
            sock = conn.sock
            time.sleep(6.5)
            conn.request("GET", "/healthz")  # on the same connection: a closed one would fail
            assert conn.sock is sock
            assert conn.getresponse().read() == b'{"status":"ok"}'
        finally:
            conn.close()


def test_serving_processes_take_the_interpreter_switch_interval_from_settings(
    tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker built by the uvicorn factory applies MARGIN_SWITCH_INTERVAL_MS (the group
    commit's thread gets the lock back sooner than Python's 5 ms default)."""
    import shutil
    import sys

    from service.app import create_app_from_env

    target = tmp_path / "margin.db"
    shutil.copy(sqlite_template, target)
    monkeypatch.setenv("MARGIN_DATABASE_URL", f"sqlite:///{target}")
    monkeypatch.setenv("MARGIN_KEY_FILE", str(tmp_path / "keys.json"))
    monkeypatch.setenv("MARGIN_SWITCH_INTERVAL_MS", "2.5")
    before = sys.getswitchinterval()
    try:
        app = create_app_from_env()
        assert sys.getswitchinterval() == pytest.approx(0.0025)
        app.state.margin.db.dispose()
    finally:
        sys.setswitchinterval(before)
