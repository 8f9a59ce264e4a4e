"""Closed-loop write load against a running Margin server, with the server's CPU per post.

    .venv/bin/python bench/write_load.py --url http://127.0.0.1:8000 --site bench \\
        --clients 16 --seconds 15 --pid <server pid>

Each client posts distinct comments (like commentbench's: Markdown, a link, a unique number)
for the given time; ``--pid`` is the ``margin serve`` process, whose CPU time and its workers'
is read from /proc before and after, so the figure is server CPU per acknowledged post. The
site must publish without a form token and have flood limits off (all clients share
127.0.0.1), e.g. ``margin site create bench --origin URL --mode publish --policy
'{"require_form_token": false, "rate_limits": {"ip": null, "author": null, "thread": null}}'``.
Used for the figures in docs/performance.md ("Writes").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import time
from pathlib import Path

import httpx

WORDS = [
    "lorem",
    "ipsum",
    "dolor",
    "sit",
    "amet",
    "consectetur",
    "adipiscing",
    "elit",
    "sed",
    "do",
    "eiusmod",
    "tempor",
    "incididunt",
    "ut",
    "labore",
    "et",
    "dolore",
    "magna",
    "aliqua",
]


def cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid`` and its child processes (the workers)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    total = 0.0
    for process in [pid, *map(int, children)]:
        try:
            fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


async def run(url: str, site: str, clients: int, seconds: float, pid: int | None) -> None:
    created = 0
    latencies: list[float] = []
    errors: dict[int, int] = {}
    stop = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:

        async def worker(number: int) -> None:
            nonlocal created
            rng = random.Random(f"{number}-{time.time()}")
            i = 0
            while time.perf_counter() < stop:
                i += 1
                body = {
                    "thread": f"/articles/a-{rng.randrange(50)}/",
                    "author_name": f"User {number}-{i % 13}",
                    "email": f"u{number}-{i % 13}@example.invalid",
                    "body": " ".join(rng.choice(WORDS) for _ in range(40))
                    + f" *{number}-{i}* http://example.invalid/{number}/{i} {rng.random():.6f}.",
                }
                started = time.perf_counter()
                response = await client.post(
                    f"/api/v1/sites/{site}/comments",
                    content=json.dumps(body),
                    headers={"content-type": "application/json", "origin": url},
                )
                latencies.append(time.perf_counter() - started)
                if response.status_code == 201:
                    created += 1
                else:
                    errors[response.status_code] = errors.get(response.status_code, 0) + 1

        cpu_before = cpu_seconds(pid) if pid else 0.0
        began = time.perf_counter()
        await asyncio.gather(*(worker(n) for n in range(clients)))
        elapsed = time.perf_counter() - began
        cpu_after = cpu_seconds(pid) if pid else 0.0
    latencies.sort()
    line = (
        f"posts/s {created / elapsed:.1f}  created={created} errors={errors}"
        f"  p50 {latencies[len(latencies) // 2] * 1e3:.1f} ms"
        f"  p99 {latencies[int(len(latencies) * 0.99)] * 1e3:.1f} ms"
    )
    if pid:
        line += f"  server CPU per post {(cpu_after - cpu_before) / max(created, 1) * 1e3:.2f} ms"
    print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--site", default="bench")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--pid", type=int, help="the margin serve process (for its CPU time)")
    args = parser.parse_args()
    asyncio.run(run(args.url, args.site, args.clients, args.seconds, args.pid))


if __name__ == "__main__":
    main()
