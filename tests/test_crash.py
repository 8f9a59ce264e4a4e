"""R-CRASH-1 and R-DUP-1: a server killed with SIGKILL in the middle of a burst of posts loses no
acknowledged comment, and retries with the same Idempotency-Key never create a second one.

The client-side history is recorded (Jepsen's "set" workload on one node): every request that
got a 201 must be stored exactly once after the restart; every other request, retried with its
key, resolves to at most one row. Seeds are printed so a failure can be replayed."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import time
from functools import partial
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from service.db import Database
from service.migrate import upgrade
from tests.factories import OPEN_POLICY, ORIGIN, comment_payload, make_site
from tests.live import free_port, run_async, start_server

CYCLES = 3
CLIENTS = 8
PER_CLIENT = 40


async def _burst(base: str, nonces: list[str], acked: dict[str, int], stop: asyncio.Event) -> None:
    async def one_client(mine: list[str]) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=5) as client:
            for nonce in mine:
                if stop.is_set():
                    return
                try:
                    response = await client.post(
                        "/api/v1/sites/news/comments",
                        json=comment_payload(
                            body=f"crash test {nonce}", email=f"{nonce}@example.org"
                        ),
                        headers={"Origin": ORIGIN, "Idempotency-Key": nonce},
                    )
                except httpx.HTTPError:
                    return  # the server died under us: this request is unacknowledged
                if response.status_code == 201:
                    acked[nonce] = response.json()["id"]

    chunks = [nonces[i::CLIENTS] for i in range(CLIENTS)]
    await asyncio.gather(*(one_client(chunk) for chunk in chunks))


async def _kill_during_burst(
    server_kill, base: str, nonces: list[str], acked: dict[str, int], delay: float
) -> None:  # type: ignore[no-untyped-def]
    stop = asyncio.Event()
    burst = asyncio.create_task(_burst(base, nonces, acked, stop))
    deadline = time.monotonic() + 60
    while not acked and time.monotonic() < deadline and not burst.done():
        await asyncio.sleep(0.01)  # the burst is under way once the first write is acknowledged
    await asyncio.sleep(delay)
    await asyncio.to_thread(server_kill)
    stop.set()
    await burst


def _stored(url: str) -> dict[str, list[int]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id, body FROM comments WHERE body LIKE 'crash test %'")
        ).all()
    engine.dispose()
    out: dict[str, list[int]] = {}
    for comment_id, body in rows:
        out.setdefault(body.removeprefix("crash test "), []).append(comment_id)
    return out


@pytest.mark.slow
def test_kill_minus_nine_loses_nothing_acknowledged(database_url: str, tmp_path: Path) -> None:
    upgrade(database_url)
    database = Database(database_url)
    make_site(database, policy=dict(OPEN_POLICY))
    database.dispose()
    key_file = tmp_path / "keys.json"
    seed = int(time.time())
    rng = random.Random(seed)
    print(f"crash test seed {seed}")
    all_acked: dict[str, int] = {}
    all_sent: list[str] = []
    port = free_port()
    for cycle in range(CYCLES):
        server = start_server(database_url, key_file, port=port)
        nonces = [f"c{cycle}n{i}" for i in range(CLIENTS * PER_CLIENT)]
        all_sent += nonces
        acked: dict[str, int] = {}
        delay = rng.uniform(0.0, 0.8)
        run_async(partial(_kill_during_burst, server.kill, server.base, nonces, acked, delay))
        all_acked.update(acked)
        assert acked, f"seed {seed}: nothing was acknowledged before the kill (delay {delay:.2f}s)"
        if database_url.startswith("sqlite"):
            path = database_url.removeprefix("sqlite:///")
            with sqlite3.connect(path) as conn:
                assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    stored = _stored(database_url)
    lost = [n for n in all_acked if n not in stored]
    assert lost == [], f"seed {seed}: acknowledged comments lost: {lost[:10]}"
    doubles = {n: ids for n, ids in stored.items() if len(ids) > 1}
    assert doubles == {}, f"seed {seed}: stored twice: {doubles}"
    assert all(stored[n] == [i] for n, i in all_acked.items())

    # Every request, acknowledged or not, retried with its key: the original answer or one new row.
    server = start_server(database_url, key_file, port=port)
    try:
        with httpx.Client(base_url=server.base, timeout=10) as client:
            for nonce in all_sent:
                response = client.post(
                    "/api/v1/sites/news/comments",
                    json=comment_payload(body=f"crash test {nonce}", email=f"{nonce}@example.org"),
                    headers={"Origin": ORIGIN, "Idempotency-Key": nonce},
                )
                assert response.status_code == 201, (seed, nonce, response.text)
                if nonce in all_acked:
                    assert response.json()["id"] == all_acked[nonce]
    finally:
        server.stop()
    final = _stored(database_url)
    assert sorted(final) == sorted(all_sent)
    assert all(len(ids) == 1 for ids in final.values())


def test_same_idempotency_key_in_parallel_makes_one_comment(
    database_url: str, tmp_path: Path
) -> None:
    """R-DUP-1 (concurrent): 20 identical requests at once give one row and one id. 20 is more
    than a worker's request threads (16): waiting requests must not starve the one holding
    the lock of a thread to finish on."""
    upgrade(database_url)
    database = Database(database_url)
    make_site(database, policy=dict(OPEN_POLICY))
    database.dispose()
    server = start_server(database_url, tmp_path / "keys.json")

    async def fire() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=server.base, timeout=30) as client:
            return await asyncio.gather(
                *(
                    client.post(
                        "/api/v1/sites/news/comments",
                        json=comment_payload(body="crash test same-key"),
                        headers={"Origin": ORIGIN, "Idempotency-Key": "same-key"},
                    )
                    for _ in range(20)
                )
            )

    try:
        responses = run_async(fire)
    finally:
        server.stop()
    assert {r.status_code for r in responses} == {201}, {r.text for r in responses}
    assert len({r.json()["id"] for r in responses}) == 1
    assert len({r.json()["edit_token"] for r in responses}) == 1
    assert _stored(database_url) == {"same-key": [responses[0].json()["id"]]}
