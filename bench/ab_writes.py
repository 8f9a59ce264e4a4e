"""New comments per second, Isso and two Margin builds taking turns, for a busy machine.

    python3 bench/ab_writes.py --roots /work/wt-before,/work/wt-after --workers 2 --rounds 3
    python3 bench/ab_writes.py --roots A,B --postgres --rounds 3

``bench/compare.py`` measures one system after the other, minutes apart; on a machine shared
with other work the load changes in between, and the ratio to Isso with it. Here every round
measures each system once, back to back, each on a fresh database with ``bench/wrk_posts.lua``
(commentbench's bodies, 16 connections, as compare.py's ``write-wrk``), so the systems share
the machine's load more evenly; the table gives each round's posts/s, the median, and the
median of the per-round ratios to Isso. Each Margin build is started by its own checkout's
``bench/compare.py`` (its ``.venv``, its code), with compare.py's bench policy (no flood limits,
no form token, spam thresholds 1.0: every check and the spam filter still run on every post).
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

START_TIMEOUT_S = 300.0


def load_compare(root: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, root / "bench" / "compare.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # A loaded machine may take longer than compare.py's 90 s to start a server.
    wait_http = module.wait_http
    module.wait_http = lambda url, timeout=START_TIMEOUT_S: wait_http(url, timeout)
    return module


def measure(compare: ModuleType, system: Any, name: str, seconds: int, warmup: int) -> float:
    system.start()
    try:
        kind = "isso" if name == "isso" else "margin"
        if warmup:
            compare.wrk_posts(
                system.base, kind, system.base, seconds=warmup, conns=16, pid=system.pid()
            )
        result = compare.wrk_posts(
            system.base, kind, system.base, seconds=seconds, conns=16, pid=system.pid()
        )
    finally:
        system.stop()
    errors = result["non2xx"] + result["errors"]
    rps = float(result["rps"]) if errors == 0 else 0.0
    print(f"  {name}: {result['rps']} posts/s, errors {errors}", file=sys.stderr, flush=True)
    return rps


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--roots", required=True, help="two Margin checkouts, comma-separated")
    p.add_argument("--labels", default="before,after")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--postgres", action="store_true")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seconds", type=int, default=8)
    p.add_argument("--warmup", type=int, default=2)
    a = p.parse_args()
    roots = [Path(r).resolve() for r in a.roots.split(",")]
    labels = a.labels.split(",")
    modules = [load_compare(root, f"compare_{i}") for i, root in enumerate(roots)]
    names = ["isso", *labels]
    runs: dict[str, list[float]] = {name: [] for name in names}
    for round_no in range(a.rounds):
        print(f"== round {round_no + 1}", file=sys.stderr, flush=True)
        runs["isso"].append(measure(modules[0], modules[0].Isso(), "isso", a.seconds, a.warmup))
        for module, label in zip(modules, labels, strict=True):
            system = module.Margin(f"margin-{label}", a.workers, a.postgres, False)
            runs[label].append(measure(module, system, label, a.seconds, a.warmup))
            time.sleep(1)
    db = "PostgreSQL" if a.postgres else "SQLite"
    print(f"\n{db}, {a.workers} worker(s), {a.rounds} rounds of {a.seconds} s, wrk -c16\n")
    print("| system | posts/s per round | median | x Isso (median of rounds) |")
    print("|---|---|---:|---:|")
    for name in names:
        values = runs[name]
        ratio = "-"
        if name != "isso":
            ratios = [v / i for v, i in zip(values, runs["isso"], strict=True) if i > 0]
            ratio = f"{statistics.median(ratios):.2f}" if ratios else "?"
        rounds = ", ".join(f"{v:.0f}" for v in values)
        print(f"| {name} | {rounds} | {statistics.median(values):.0f} | {ratio} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
