"""Spam scoring latency and model size.

    .venv/bin/python bench/spam_bench.py [--model PATH] [--n 2000] [--seed 1]

Comments of about 1 KB are built by concatenating random comments from the bundled data
(seeded). Each is scored one call at a time on one core (pin with `taskset -c 1` for stable
numbers). "cold" clears the per-word caches before every call (worst case: no word seen
before); "warm" is the steady state of a running server. A pure-Python reference loop is
timed too, so results from different machines can be compared.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import resource
import statistics
import time
import tracemalloc
from pathlib import Path

from service.spam.cli import DEFAULT_MODEL, SMS, YOUTUBE
from service.spam.data import read_labelled
from service.spam.model import SiteModel, load_model


def _docs(n: int, seed: int) -> list[str]:
    texts = [e.text for p in [*YOUTUBE[:3], SMS] for e in read_labelled(p)]
    rng = random.Random(seed)
    docs = []
    for _ in range(n):
        parts: list[str] = []
        size = 0
        while size < 1024:
            t = rng.choice(texts)
            parts.append(t)
            size += len(t) + 1
        docs.append(" ".join(parts)[:1024])
    return docs


def _stats(times: list[float]) -> str:
    times = sorted(times)
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    return f"median {statistics.median(times) * 1e3:.3f} ms  p99 {p99 * 1e3:.3f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    gc.collect()
    tracemalloc.start()
    t0 = time.perf_counter()
    model = load_model(args.model)
    load_s = time.perf_counter() - t0
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"model file {args.model.name}: {os.path.getsize(args.model) / 1024:.0f} KiB on disk, "
        f"{len(model.weights)} weights, loaded in {load_s * 1e3:.0f} ms"
    )
    print(
        f"memory after load (tracemalloc): {current / 2**20:.1f} MiB (peak {peak / 2**20:.1f} MiB)"
    )

    ref = []
    for _ in range(200):
        t = time.perf_counter()
        sum(range(20000))
        ref.append(time.perf_counter() - t)
    print(f"reference loop sum(range(20000)): median {statistics.median(ref) * 1e3:.3f} ms")

    docs = _docs(args.n, args.seed)
    print(f"{len(docs)} comments, mean {sum(map(len, docs)) / len(docs):.0f} chars")

    cold = []
    for d in docs[:500]:
        model.clear_caches()
        t = time.perf_counter()
        model.score(d)
        cold.append(time.perf_counter() - t)
    print("base model, cold caches:", _stats(cold))

    for d in docs:
        model.score(d)
    warm = []
    for d in docs:
        t = time.perf_counter()
        model.score(d)
        warm.append(time.perf_counter() - t)
    print("base model, warm caches:", _stats(warm))
    explained = []
    for d in docs:
        t = time.perf_counter()
        model.score(d).top_features  # noqa: B018 (the reasons are worked out on first use)
        explained.append(time.perf_counter() - t)
    print("base model, warm caches, with reasons:", _stats(explained))

    fresh = _docs(500, args.seed + 1)
    unseen = []
    for d in fresh:
        t = time.perf_counter()
        model.score(d)
        unseen.append(time.perf_counter() - t)
    print("base model, new comments (caches warm from others):", _stats(unseen))

    site = SiteModel(model)
    for i, d in enumerate(docs[:300]):
        site.learn(d, is_spam=i % 3 == 0)
    times = []
    for d in docs:
        t = time.perf_counter()
        site.score(d)
        times.append(time.perf_counter() - t)
    print(f"site model ({len(site.delta)} delta weights after 300 decisions):", _stats(times))
    times = []
    for d in docs:
        t = time.perf_counter()
        site.score(d).top_features  # noqa: B018
        times.append(time.perf_counter() - t)
    print("site model, with reasons (what the service uses):", _stats(times))
    times = []
    for i, d in enumerate(docs[:500]):
        t = time.perf_counter()
        site.learn(d, is_spam=i % 2 == 0)
        times.append(time.perf_counter() - t)
    print("site model learn():", _stats(times))
    hostile = ["a." * 5000, "[a](" * 2500, "1 " * 5000, "<a " * 3333, "a@" * 5000]
    times = []
    for d in hostile:
        model.clear_caches()
        t = time.perf_counter()
        model.score(d).top_features  # noqa: B018
        times.append(time.perf_counter() - t)
    print(f"10,000-character hostile bodies, cold: max {max(times) * 1e3:.1f} ms")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident set size of this process: {rss:.0f} MiB")


if __name__ == "__main__":
    main()
