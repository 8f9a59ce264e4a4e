"""Large-data benchmark: 1,000,000 comments stored, one thread of 100,000; first-page latency
and memory per worker.

    .venv/bin/python bench/large_data.py --db sqlite --workers 1
    .venv/bin/python bench/large_data.py --db postgres --workers 2

Run with the project's interpreter (it uses the project's models to write the rows). Steps:

1. a fresh database, migrated by ``margin migrate``; site ``big`` and a moderator via the CLI;
2. rows written directly with SQL through the models' tables (SQLite: executemany; PostgreSQL:
   COPY): thread ``/big/`` gets 100,000 comments (80 % top-level, 20 % replies to earlier
   top-level comments, ``root_id``/``reply_count`` kept consistent), 900,000 more comments
   spread over 18,000 threads of 50. 97 % approved, 2 % pending, 1 % spam. The email column
   holds 60 random bytes per row, NOT real AES-GCM ciphertext (the read path never opens it);
   look-up hashes and avatars are random hex. ``threads.approved_count`` is exact;
3. ``margin serve --workers N`` on 127.0.0.1; then over HTTP, one request at a time:
   - cold: the very first request of each page shape after start (empty page cache),
   - uncached: pages deep in the big thread through keyset cursors (each a cache miss: the
     query and the JSON rendering), p50/p99,
   - warm: the first page again and again (the cached path), p50/p99,
   - moderator queue: pending comments of the site, first page and a deep page;
4. VmRSS and VmHWM (peak) of every uvicorn worker process.

Traffic goes to 127.0.0.1 only; every loop is bounded. The scratch database is removed at the
end (``--keep`` keeps it for another run: ``--reuse PATH_OR_DB``).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.comments.models import Comment, Thread  # noqa: E402

MARGIN = str(ROOT / ".venv" / "bin" / "margin")
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DB = "margin_bench_large"
BIG_KEY = "/big/"
HTML = (
    "<p>Comment {n}: a reasonably sized benchmark comment with <em>some</em> markdown and a "
    'link <a href="http://example.invalid/{n}" rel="nofollow ugc noopener noreferrer">'
    "http://example.invalid/{n}</a>. Lorem ipsum dolor sit amet.</p>"
)


def cursor(*parts: int) -> str:
    raw = json.dumps(list(parts), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return round(s[min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))], 2)


def generate(url: str, site_id: int, n_big: int, n_other: int, per_thread: int) -> dict[str, Any]:
    rng = random.Random(7)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    threads: list[dict[str, Any]] = []
    n_threads = 1 + n_other // per_thread
    for t in range(n_threads):
        threads.append(
            {
                "id": t + 1,
                "site_id": site_id,
                "key": BIG_KEY if t == 0 else f"/articles/{t}/",
                "title": f"Article {t}",
                "url": None,
                "is_open": True,
                "approved_count": 0,
                "version": 1,
                "created_at": now,
            }
        )
    columns = [c.name for c in Comment.__table__.columns]  # type: ignore[attr-defined]
    reply_counts: dict[int, int] = {}

    def rows() -> Any:
        cid = 0
        roots: list[int] = []
        plan = [(1, n_big)] + [(t + 1, per_thread) for t in range(1, n_threads)]
        for thread_id, count in plan:
            roots = []
            for _ in range(count):
                cid += 1
                r = rng.random()
                status = "approved" if r < 0.97 else ("pending" if r < 0.99 else "spam")
                parent = None
                if roots and rng.random() < 0.2:
                    parent = rng.choice(roots[-200:])
                elif status == "approved":
                    roots.append(cid)
                if parent is not None and status == "approved":
                    reply_counts[parent] = reply_counts.get(parent, 0) + 1
                if status == "approved":
                    threads[thread_id - 1]["approved_count"] += 1
                at = now + timedelta(seconds=cid)
                yield {
                    "id": cid,
                    "site_id": site_id,
                    "thread_id": thread_id,
                    "parent_id": parent,
                    "root_id": parent,
                    "depth": 1 if parent else 0,
                    "author_name": f"Reader {cid % 5000}",
                    "website": None,
                    "body": f"Comment {cid} body",
                    "html": HTML.format(n=cid),
                    "status": status,
                    "moderation": {"actor": "system", "action": "approve", "verdicts": []},
                    "reason": "published" if status == "approved" else "held for review",
                    "reply_count": 0,
                    "flag_count": 0,
                    "review_requested": False,
                    "email_ciphertext": os.urandom(60),  # NOT real ciphertext (see docstring)
                    "email_key_id": "bench",
                    "email_lookup": os.urandom(32).hex(),
                    "email_lookup_key_id": "bench",
                    "avatar": os.urandom(8).hex(),
                    "ip_prefix": "127.0.0.0/24",
                    "ip_hash": os.urandom(16).hex(),
                    "ip_expires_at": at + timedelta(days=90),
                    "edit_token_hash": os.urandom(32).hex(),
                    "dedupe_key": os.urandom(32).hex(),
                    "created_at": at,
                    "edited_at": None,
                    "status_changed_at": at,
                }

    engine = create_engine(url)
    started = time.perf_counter()
    table = Comment.__table__  # type: ignore[attr-defined]
    gen = rows()
    if engine.dialect.name == "sqlite":
        with engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA synchronous=OFF")  # generation only, not measured
            conn.execute(Thread.__table__.insert(), threads)  # type: ignore[attr-defined]
            while True:
                chunk = [r for _, r in zip(range(20_000), gen, strict=False)]
                if not chunk:
                    break
                conn.execute(table.insert(), chunk)
    else:
        from psycopg.types.json import Jsonb

        with engine.begin() as conn:
            conn.execute(Thread.__table__.insert(), threads)  # type: ignore[attr-defined]
        raw = engine.raw_connection()
        try:
            pg = raw.driver_connection
            assert pg is not None
            sql = f"COPY comments ({', '.join(columns)}) FROM STDIN"
            with pg.cursor() as cur, cur.copy(sql) as copy:
                for r in gen:
                    r["moderation"] = Jsonb(r["moderation"])
                    copy.write_row([r[c] for c in columns])
            pg.commit()
        finally:
            raw.close()
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE comments SET reply_count = :n WHERE id = :id"),
            [{"id": k, "n": v} for k, v in reply_counts.items()],
        )
        for t in threads:
            conn.execute(
                text("UPDATE threads SET approved_count = :n WHERE id = :id"),
                {"n": t["approved_count"], "id": t["id"]},
            )
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT setval('comments_id_seq', (SELECT max(id) FROM comments))"))
            conn.execute(text("SELECT setval('threads_id_seq', (SELECT max(id) FROM threads))"))
            conn.execute(text("ANALYZE comments"))
            conn.execute(text("ANALYZE threads"))
        else:
            conn.exec_driver_sql("ANALYZE")
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    total = n_big + n_threads * 0 + (n_threads - 1) * per_thread
    return {
        "comments": total,
        "threads": n_threads,
        "big_thread_comments": n_big,
        "big_thread_approved": threads[0]["approved_count"],
        "seconds": round(time.perf_counter() - started, 1),
    }


def worker_pids(root: int) -> list[int]:
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = Path(f"/proc/{d}/stat").read_text()
                kids.setdefault(int(stat[stat.rindex(")") + 2 :].split()[1]), []).append(int(d))
            except (OSError, ValueError):
                pass
    # uvicorn --workers N: a supervisor and N spawned workers; --workers 1: one process
    workers = [p for p in kids.get(root, []) if "spawn_main" in proc_cmd(p)]
    return workers or [root]


def proc_cmd(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def memory(pid: int) -> dict[str, float]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = round(int(value.split()[0]) / 1024, 1)
    return out


def timed(client: httpx.Client, path: str, headers: dict[str, str] | None = None) -> float:
    t0 = time.perf_counter()
    resp = client.get(path, headers=headers)
    elapsed = (time.perf_counter() - t0) * 1000
    if resp.status_code not in (200, 304):
        raise RuntimeError(f"{path}: HTTP {resp.status_code} {resp.text[:200]}")
    return elapsed


def measure(base: str, token: str, site_id: int, n_warm: int, n_deep: int) -> dict[str, Any]:
    del site_id
    api = "/api/v1/sites/big/comments"
    res: dict[str, Any] = {}
    with httpx.Client(base_url=base, trust_env=False, timeout=30) as c:
        first = c.get(api, params={"thread": BIG_KEY}).json()
        assert first["thread"]["total"] > 90_000, first["thread"]
        res["first_page_comments"] = len(first["comments"])
        # cold: first request of each shape (a fresh server was just started; the page above
        # warmed only the default shape, so the other shapes are cold here)
        for name, params in (
            ("cold_first_page_limit100", {"thread": BIG_KEY, "limit": "100"}),
            ("cold_newest", {"thread": BIG_KEY, "sort": "newest"}),
            ("cold_most_replied", {"thread": BIG_KEY, "sort": "replies"}),
        ):
            res[name + "_ms"] = round(timed(c, api + "?" + str(httpx.QueryParams(params))), 2)
        rng = random.Random(3)
        deep = []
        for _ in range(n_deep):  # every one a cache miss: query + render
            q = httpx.QueryParams({"thread": BIG_KEY, "cursor": cursor(rng.randint(1, 99_000))})
            deep.append(timed(c, f"{api}?{q}"))
        res["uncached_deep_page"] = {"n": n_deep, "p50_ms": pct(deep, 50), "p99_ms": pct(deep, 99)}
        warm = [timed(c, f"{api}?thread={BIG_KEY}") for _ in range(n_warm)]
        res["warm_first_page"] = {"n": n_warm, "p50_ms": pct(warm, 50), "p99_ms": pct(warm, 99)}
        etag = c.get(api, params={"thread": BIG_KEY}).headers["etag"]
        revalidate = [
            timed(c, f"{api}?thread={BIG_KEY}", {"If-None-Match": etag}) for _ in range(n_warm)
        ]
        res["warm_304"] = {
            "n": n_warm,
            "p50_ms": pct(revalidate, 50),
            "p99_ms": pct(revalidate, 99),
        }
        auth = {"Authorization": f"Bearer {token}"}
        mod = "/api/v1/moderation/comments"
        queue = [
            timed(c, f"{mod}?site=big&status=pending", auth) for _ in range(max(20, n_deep // 5))
        ]
        res["moderator_queue_first_page"] = {
            "n": len(queue),
            "p50_ms": pct(queue, 50),
            "p99_ms": pct(queue, 99),
        }
        deepq = [
            timed(
                c, f"{mod}?site=big&status=pending&cursor={cursor(rng.randint(1, 990_000))}", auth
            )
            for _ in range(max(20, n_deep // 5))
        ]
        res["moderator_queue_deep_page"] = {
            "n": len(deepq),
            "p50_ms": pct(deepq, 50),
            "p99_ms": pct(deepq, 99),
        }
        counts = [
            timed(c, f"/api/v1/sites/big/counts?thread={BIG_KEY}&thread=/articles/7/")
            for _ in range(50)
        ]
        res["counts"] = {"n": 50, "p50_ms": pct(counts, 50), "p99_ms": pct(counts, 99)}
    return res


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--workers", default="1", help="comma list, e.g. 1,2 (same data)")
    p.add_argument("--big", type=int, default=100_000)
    p.add_argument("--others", type=int, default=900_000)
    p.add_argument("--per-thread", type=int, default=50)
    p.add_argument("--warm", type=int, default=1000, help="warm requests (sequential)")
    p.add_argument("--deep", type=int, default=300, help="uncached deep-page requests")
    p.add_argument("--keep", action="store_true", help="keep the generated database")
    p.add_argument("--reuse", help="an existing generated SQLite dir or 'postgres'")
    p.add_argument("--out", default="/tmp/margin-large.json")
    a = p.parse_args()
    # SIGTERM runs the finally blocks too: servers stopped, scratch databases dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    workdir = (
        Path(a.reuse)
        if a.reuse and a.db == "sqlite"
        else Path(tempfile.mkdtemp(prefix="margin-large-"))
    )
    if a.db == "sqlite":
        url = f"sqlite:///{workdir / 'margin.db'}"
    else:
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{PG_DB}"
    env = {**os.environ, "MARGIN_DATABASE_URL": url, "MARGIN_KEY_FILE": str(workdir / "keys.json")}
    result: dict[str, Any] = {"db": a.db, "started": time.strftime("%Y-%m-%dT%H:%M:%S")}
    try:
        if not a.reuse:
            if a.db == "postgres":
                for sql in (
                    f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)",
                    f"CREATE DATABASE {PG_DB}",
                ):
                    subprocess.run(["psql", PG_ADMIN, "-q", "-c", sql], check=True)
            subprocess.run(
                [MARGIN, "migrate"], env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL
            )
            subprocess.run(
                [
                    MARGIN,
                    "site",
                    "create",
                    "big",
                    "--origin",
                    "http://127.0.0.1:9",
                    "--mode",
                    "publish",
                ],
                env=env,
                check=True,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
            )
            token = subprocess.run(
                [MARGIN, "moderator", "create", "--site", "big", "--name", "bench"],
                env=env,
                check=True,
                cwd=ROOT,
                capture_output=True,
                text=True,
            ).stdout.strip()
            (workdir / "token").write_text(token)
            print("generating rows ...", file=sys.stderr, flush=True)
            result["data"] = generate(url, 1, a.big, a.others, a.per_thread)
            print(f"  {result['data']}", file=sys.stderr, flush=True)
        token = (workdir / "token").read_text().strip()
        if a.db == "sqlite":
            result["db_mb"] = round(
                sum(f.stat().st_size for f in workdir.glob("margin.db*")) / 1048576, 1
            )
        result["runs"] = []
        for workers in [int(w) for w in a.workers.split(",")]:
            port = free_port()
            log = open(workdir / f"server-{workers}.log", "wb")  # noqa: SIM115
            proc = subprocess.Popen(
                [MARGIN, "serve", "--no-migrate", "--port", str(port), "--workers", str(workers)],
                env=env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                base = f"http://127.0.0.1:{port}"
                for _ in range(600):
                    try:
                        if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                            break
                    except httpx.HTTPError:
                        time.sleep(0.2)
                run: dict[str, Any] = {"workers": workers}
                run["rss_after_start"] = {p: memory(p) for p in worker_pids(proc.pid)}
                run.update(measure(base, token, 1, a.warm, a.deep))
                run["rss_after_load"] = {p: memory(p) for p in worker_pids(proc.pid)}
                result["runs"].append(run)
                print(json.dumps(run, indent=1), file=sys.stderr, flush=True)
            finally:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=30)
    finally:
        if not a.keep:
            if a.db == "postgres":
                subprocess.run(
                    ["psql", PG_ADMIN, "-q", "-c", f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)"],
                    check=False,
                )
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"kept: {workdir}", file=sys.stderr)
    Path(a.out).write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
