"""Margin against Isso, the same commentbench workload in one run, with the ratio per phase.

    python3 bench/compare.py                       # isso, margin-sqlite-w1, -w2, margin-pg-w2
    python3 bench/compare.py --systems isso,margin-sqlite-w2 --duration 10 --out /tmp/cmp

For every system: start it on a fresh database, run ``../shared/bench/commentbench.py`` (write,
seed, [approve], hot, many, mixed), then, on the same seeded server, measure the read phases
again with wrk, because the httpx generator saturates at ~700-800 req/s on 2 cores, and then
the write phase too (``write-wrk``: commentbench's bodies from ``bench/wrk_posts.lua``, 16
connections, as its write phase), because on 2 cores the httpx generator's own CPU (about 2 ms
per post) is taken from the server. Finally print one table: every phase, every system, and
Margin / Isso (against Isso's better figure of the two tools for the same work).

A "hot" read is the WHOLE 200-comment thread, as Isso's ``GET /?uri=`` answers it: on Margin
that is two requests of 100 top-level comments (``next_cursor`` followed), so Margin's hot
reads/s = its HTTP req/s / 2. ``hot-widget`` is what the embed script asks first (20 comments,
one request). ``hot-304`` revalidates with ``If-None-Match`` (a CDN or browser holding the page).

Everything listens on and sends to 127.0.0.1 only; every phase is bounded in count and time.
Needs: wrk; ``/tmp/bench-venv`` with httpx + psutil; ``../shared/bench/peers/isso.sh install``;
for PostgreSQL a server on 127.0.0.1:5432 (user postgres, trust) - a scratch database
``margin_bench`` is created and dropped.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("COMMENTBENCH_DIR", ROOT.parent / "shared" / "bench")).resolve()
BENCH_PY = os.environ.get("BENCH_PY", "/tmp/bench-venv/bin/python")
MARGIN = str(ROOT / ".venv" / "bin" / "margin")
ADAPTER = str(ROOT / "bench" / "margin_adapter.py") + ":MarginAdapter"
WRK_LUA = str(ROOT / "bench" / "wrk_paths.lua")
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DB = "margin_bench"
BENCH_POLICY = {
    # Flood limits would answer 429 to a load generator whose clients all share 127.0.0.1;
    # the form token needs a browser. Every other check still runs on every post: words,
    # links, duplicates, trust/history, honeypot, and the learned spam filter, which scores
    # every post; its thresholds are 1.0 because it rightly scores commentbench's "Lorem ipsum
    # + link" texts as spam, and the read phases need the seeded comments published.
    "require_form_token": False,
    "rate_limits": {"ip": None, "author": None, "thread": None},
    "spam_threshold": 1.0,
    "spam_hold_threshold": 1.0,
}
PHASES = ["write", "seed", "approve", "hot", "many", "mixed"]
WRK_PHASES = ["write-wrk", "hot-wrk", "hot-widget-wrk", "hot-304-wrk", "many-wrk"]
WRK_POSTS_LUA = str(ROOT / "bench" / "wrk_posts.lua")
WRITE_CONNS = 16  # commentbench's --write-concurrency


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_http(url: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def get_json(url: str, headers: dict[str, str] | None = None) -> tuple[Any, dict[str, str]]:
    req = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read()), dict(resp.headers)


def psql(sql: str) -> None:
    subprocess.run(
        ["psql", PG_ADMIN, "-q", "-v", "ON_ERROR_STOP=1", "-c", sql],
        check=True,
        stdout=subprocess.DEVNULL,
    )


class Margin:
    def __init__(self, label: str, workers: int, postgres: bool, moderation: bool) -> None:
        self.label, self.workers, self.postgres, self.moderation = (
            label,
            workers,
            postgres,
            moderation,
        )
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.dir = Path(tempfile.mkdtemp(prefix="margin-bench-"))
        self.proc: subprocess.Popen[bytes] | None = None
        self.token = ""
        if postgres:
            self.url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{PG_DB}"
            self.db_path = None
        else:
            self.db_path = str(self.dir / "margin.db")
            self.url = f"sqlite:///{self.db_path}"
        self.env = {
            **os.environ,
            "MARGIN_DATABASE_URL": self.url,
            "MARGIN_KEY_FILE": str(self.dir / "keys.json"),
            "MARGIN_WORKERS": str(workers),
        }

    def start(self) -> None:
        if self.postgres:
            psql(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
            psql(f"CREATE DATABASE {PG_DB}")
        mode = "premoderate_all" if self.moderation else "publish"
        run = {"env": self.env, "check": True, "cwd": ROOT}
        subprocess.run(
            [
                MARGIN,
                "site",
                "create",
                "bench",
                "--origin",
                self.base,
                "--mode",
                mode,
                "--policy",
                json.dumps(BENCH_POLICY),
            ],
            stdout=subprocess.DEVNULL,
            **run,  # type: ignore[arg-type]
        )
        if self.moderation:
            out = subprocess.run(
                [MARGIN, "moderator", "create", "--site", "bench", "--name", "bench"],
                capture_output=True,
                text=True,
                **run,  # type: ignore[arg-type]
            )
            self.token = out.stdout.strip()
        log = open(self.dir / "server.log", "wb")  # noqa: SIM115 - lives as long as the server
        self.proc = subprocess.Popen(
            [MARGIN, "serve", "--port", str(self.port), "--workers", str(self.workers)],
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_http(self.base + "/healthz")

    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def opts(self) -> list[str]:
        opts = [f"origin={self.base}", "site=bench"]
        if self.moderation:
            opts += ["moderation=1", f"token={self.token}"]
        return opts

    def path(self, art: int, limit: int, cursor: str | None = None) -> str:
        query = {"thread": f"/articles/a-{art}/", "limit": str(limit)}
        if cursor:
            query["cursor"] = cursor
        return "/api/v1/sites/bench/comments?" + urllib.parse.urlencode(query, safe="/")

    def hot_paths(self, art: int) -> list[str]:
        paths, cursor = [], None
        while True:
            path = self.path(art, 100, cursor)
            paths.append(path)
            cursor = get_json(self.base + path)[0]["next_cursor"]
            if not cursor:
                return paths

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.postgres:
            psql(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        shutil.rmtree(self.dir, ignore_errors=True)


class Isso:
    label = "isso"
    db_path = "/tmp/isso-bench/comments.db"
    base = "http://127.0.0.1:8080"

    def __init__(self, workers: int = 4) -> None:
        self.workers = workers
        self.script = str(SHARED / "peers" / "isso.sh")

    def start(self) -> None:
        subprocess.run(
            [self.script, "start", "mod=0", f"workers={self.workers}"],
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def pid(self) -> int:
        return int(Path("/tmp/isso-bench/server.pid").read_text().split()[0])

    def opts(self) -> list[str]:
        return []

    def path(self, art: int, limit: int = 0) -> str:
        del limit
        return "/?uri=" + urllib.parse.quote(f"/articles/a-{art}/", safe="")

    def hot_paths(self, art: int) -> list[str]:
        return [self.path(art)]

    def stop(self) -> None:
        subprocess.run([self.script, "stop"], check=False)


def wrk(base: str, paths: list[str], *, order: str, seconds: int, conns: int) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".paths", delete=False) as f:
        f.write("\n".join(paths) + "\n")
    env = {**os.environ, "PATHS_FILE": f.name, "ORDER": order}
    cmd = ["wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--timeout", "5s", "-s", WRK_LUA, base]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    os.unlink(f.name)
    line = [ln for ln in out.splitlines() if ln.startswith("{")][-1]
    result: dict[str, Any] = json.loads(line)
    return result


def tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its descendants, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def wrk_posts(
    base: str, system: str, origin: str, *, seconds: int, conns: int, pid: int
) -> dict[str, Any]:
    """New comments for ``seconds`` from wrk (bench/wrk_posts.lua: commentbench's bodies over
    its 100 write articles), with the server's CPU time per request."""
    env = {**os.environ, "SYSTEM": system, "SITE": "bench", "ORIGIN": origin, "ARTICLES": "100"}
    cmd = ["wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--timeout", "5s", "-s", WRK_POSTS_LUA]
    before = tree_cpu_seconds(pid)
    out = subprocess.run([*cmd, base], env=env, capture_output=True, text=True, check=True)
    spent = tree_cpu_seconds(pid) - before
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("{")][-1]
    result: dict[str, Any] = json.loads(line)
    result["srv_cpu_ms_per_req"] = round(1000 * spent / max(1, result["requests"]), 2)
    return result


def run_system(sysobj: Any, a: argparse.Namespace, out: Path) -> dict[str, Any]:
    label = sysobj.label
    result: dict[str, Any] = {"label": label, "phases": {}}
    sysobj.start()
    try:
        cmd = [BENCH_PY, str(SHARED / "commentbench.py"), "run", "--url", sysobj.base]
        cmd += ["--adapter", ADAPTER if label != "isso" else "isso", "--label", label]
        cmd += ["--server-pid", str(sysobj.pid()), "--out", str(out / f"{label}.json")]
        cmd += ["--duration", str(a.duration), "--posts", str(a.posts)]
        cmd += ["--max-phase-seconds", str(a.max_phase_seconds)]
        if sysobj.db_path:
            cmd += ["--db-path", sysobj.db_path]
        for opt in sysobj.opts():
            cmd += ["--opt", opt]
        print(f"== {label}: commentbench", file=sys.stderr, flush=True)
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        for line in proc.stderr.splitlines():
            if line.startswith("[") or line.startswith("validation"):
                print("  " + line, file=sys.stderr, flush=True)
        if proc.returncode != 0:
            print(proc.stderr[-2000:], file=sys.stderr)
            raise RuntimeError(f"commentbench failed for {label}")
        cb = json.loads((out / f"{label}.json").read_text())
        result["validation"] = cb.get("validation")
        result["rss_peak_mb"] = round((cb.get("rss_peak_bytes") or 0) / 1048576, 1)
        result["rss_peak_process_mb"] = round(
            (cb.get("rss_peak_single_proc_bytes") or 0) / 1048576, 1
        )
        hot_pages = max(1, -(-a.hot_comments // 100)) if label != "isso" else 1
        for ph in cb["phases"]:
            per_read = hot_pages if ph["phase"] == "hot" else 1
            result["phases"][ph["phase"]] = {
                "rps": ph["rps"],
                "http_rps": round(ph["rps"] * per_read, 1),
                "p50_ms": ph["p50_ms"],
                "p99_ms": ph["p99_ms"],
                "errors": ph["errors"],
                "srv_cpu": ph["server_cpu_cores"],
                "gen_cpu": ph["generator_cpu_cores"],
                "tool": "httpx",
            }
        if a.wrk_seconds > 0:
            hot_art, many = 100, range(101, 1101)
            hot = sysobj.hot_paths(hot_art)
            plans: list[tuple[str, list[str], str, int]] = [
                ("hot-wrk", hot, "cycle", len(hot)),
                ("many-wrk", [sysobj.path(i, 100) for i in many], "random", 1),
            ]
            if label != "isso":
                widget = sysobj.path(hot_art, 20)
                etag = get_json(sysobj.base + widget)[1].get("ETag", "")
                plans.insert(1, ("hot-widget-wrk", [widget], "cycle", 1))
                plans.insert(2, ("hot-304-wrk", [f"{widget}\t{etag}"], "cycle", 1))
            for name, paths, order, per_read in plans:
                print(f"== {label}: {name}", file=sys.stderr, flush=True)
                r = wrk(sysobj.base, paths, order=order, seconds=a.wrk_seconds, conns=a.wrk_conns)
                print("  " + json.dumps(r), file=sys.stderr, flush=True)
                result["phases"][name] = {
                    "rps": round(r["rps"] / per_read, 1),
                    "http_rps": r["rps"],
                    "p50_ms": r["p50_ms"],
                    "p99_ms": r["p99_ms"],
                    "errors": r["non2xx"] + r["errors"],
                    "tool": f"wrk -t1 -c{a.wrk_conns}",
                }
            # Last, so that the reads above see the same database as commentbench's phases.
            # The httpx generator needs about 2 ms of CPU per post, which on 2 cores is taken
            # from the server; wrk needs a few microseconds.
            print(f"== {label}: write-wrk", file=sys.stderr, flush=True)
            system = "isso" if label == "isso" else "margin"
            r = wrk_posts(
                sysobj.base,
                system,
                sysobj.base,
                seconds=a.wrk_seconds,
                conns=WRITE_CONNS,
                pid=sysobj.pid(),
            )
            print("  " + json.dumps(r), file=sys.stderr, flush=True)
            result["phases"]["write-wrk"] = {
                "rps": r["rps"],
                "http_rps": r["rps"],
                "p50_ms": r["p50_ms"],
                "p99_ms": r["p99_ms"],
                "errors": r["non2xx"] + r["errors"],
                "srv_cpu_ms_per_req": r["srv_cpu_ms_per_req"],
                "tool": f"wrk -t1 -c{WRITE_CONNS}",
            }
    finally:
        sysobj.stop()
    return result


def table(results: list[dict[str, Any]]) -> str:
    isso = next((r for r in results if r["label"] == "isso"), None)
    lines = [
        "| phase | system | reads or writes/s | HTTP req/s | p50 ms | p99 ms | errors | x Isso |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for phase in PHASES + WRK_PHASES:
        for r in results:
            ph = r["phases"].get(phase)
            if ph is None:
                continue
            ratio = "-"
            if isso is not None and r is not isso:
                # Against Isso's better figure for the same work, httpx or wrk (conservative).
                base = phase.replace("-widget", "").replace("-304", "").replace("-wrk", "")
                best = max(
                    (
                        isso["phases"][k]["rps"]
                        for k in (base, base + "-wrk")
                        if k in isso["phases"]
                    ),
                    default=None,
                )
                if best:
                    ratio = f"{ph['rps'] / best:.1f}"
            lines.append(
                f"| {phase} | {r['label']} | {ph['rps']} | {ph['http_rps']} | {ph['p50_ms']} | "
                f"{ph['p99_ms']} | {ph['errors']} | {ratio} |"
            )
    lines.append("")
    for r in results:
        lines.append(
            f"- {r['label']}: RSS peak {r['rss_peak_mb']} MB for the process tree, "
            f"{r.get('rss_peak_process_mb', '?')} MB for its largest process; {r['validation']}"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--systems", default="isso,margin-sqlite-w1,margin-sqlite-w2,margin-pg-w2")
    p.add_argument("--duration", type=float, default=10.0, help="seconds per httpx read phase")
    p.add_argument("--posts", type=int, default=5000)
    p.add_argument("--hot-comments", type=int, default=200)
    p.add_argument(
        "--max-phase-seconds",
        type=float,
        default=150.0,
        help="commentbench's cap per phase (seed: 2x); high enough that seeding completes",
    )
    p.add_argument("--wrk-seconds", type=int, default=10, help="0 skips the wrk phases")
    p.add_argument("--wrk-conns", type=int, default=32)
    p.add_argument("--moderation", action="store_true", help="Margin premoderates, bench approves")
    p.add_argument("--out", default="/tmp/margin-compare")
    p.add_argument("--report", help="only print the table of an earlier results.json")
    a = p.parse_args()
    if a.report:
        print(table(json.loads(Path(a.report).read_text())))
        return 0
    # SIGTERM runs the finally blocks too: servers stopped, scratch databases dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    results = []
    for name in a.systems.split(","):
        if name == "isso":
            sysobj: Any = Isso()
        else:
            _, db, w = name.split("-")
            sysobj = Margin(name, int(w.lstrip("w")), db == "pg", a.moderation)
        results.append(run_system(sysobj, a, out))
        (out / "results.json").write_text(json.dumps(results, indent=1))
    md = table(results)
    (out / "table.md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
