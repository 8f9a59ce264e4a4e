"""Benchmark of the pure moderation pipeline on one core.

Run: .venv/bin/python bench/moderation_bench.py [--comments N] [--terms N]

Builds a policy with a generated 10,000-term blocked list (plus the self-promotion preset
as suspect words), times the matcher build, then runs ``moderate`` over ~1 KB comments
(ordinary prose with a few links, obfuscated words and Unicode) and reports the median
and p99 per comment and comments per second. Deterministic: a fixed seed.
"""

from __future__ import annotations

import argparse
import random
import statistics
import string
import time

from service.moderation import AuthorHistory, Facts, Policy, Submission, moderate
from service.moderation.words import matcher_for

WORDS = (  # noqa: SIM905 - prose reads better than a list of quoted words
    "the article makes a fair point about local transport and I think the council should"
    " publish the figures before the next meeting because people deserve to know how the"
    " money was spent on buses trains and cycle lanes over the past five years in this town"
    " my neighbour said the same thing at the library last week and nobody could answer her"
).split()
EXTRAS = [
    "https://example.org/report?page=2",
    "www.council.example.gov",
    "s\u0435x",
    "f\u200bu\u200bn",
    "cl\u00e1ssic",
    "\uff46\uff55\uff4c\uff4c",
    "b.r.e.a.d",
    "r3port",
    "caf\u00e9",
    "Scunthorpe",
]


def make_terms(rng: random.Random, n: int) -> list[str]:
    terms: set[str] = set()
    while len(terms) < n:
        word = "".join(rng.choices(string.ascii_lowercase, k=rng.randint(4, 10)))
        terms.add(word + ("*" if rng.random() < 0.05 else ""))
    return sorted(terms)


def make_comment(rng: random.Random, size: int = 1000) -> str:
    out: list[str] = []
    length = 0
    while length < size:
        word = rng.choice(EXTRAS) if rng.random() < 0.05 else rng.choice(WORDS)
        out.append(word)
        length += len(word) + 1
    return " ".join(out)[:size]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--comments", type=int, default=5000)
    parser.add_argument("--terms", type=int, default=10_000)
    args = parser.parse_args()
    rng = random.Random(20240601)
    terms = make_terms(rng, args.terms)

    t0 = time.perf_counter()
    policy = Policy.from_dict(
        {
            "mode": "publish",
            "blocked_words": terms,
            "suspect_presets": ["self_promotion"],
            "blocked_domains": ["casino.example", "pills.example"],
        }
    )
    t1 = time.perf_counter()
    matcher_for(policy)  # builds and caches the automaton
    t2 = time.perf_counter()

    now = 1_700_000_000.0
    comments = [make_comment(rng) for _ in range(500)]
    facts = Facts(now=now, history=AuthorHistory(approved=2))
    for body in comments[:50]:  # warm-up: fills the lazy transition table
        moderate(Submission(body, "Reader", form_rendered_at=now - 300), facts, policy)

    times: list[float] = []
    for i in range(args.comments):
        submission = Submission(
            comments[i % len(comments)],
            "Reader",
            website="https://blog.example",
            form_rendered_at=now - 300,
        )
        start = time.perf_counter()
        moderate(submission, facts, policy)
        times.append(time.perf_counter() - start)

    times.sort()
    median = statistics.median(times)
    p99 = times[int(len(times) * 0.99) - 1]
    avg_len = sum(map(len, comments)) / len(comments)
    print(f"terms: {len(terms):,} blocked + {len(policy.all_suspect_words())} suspect")
    print(
        f"policy parse: {(t1 - t0) * 1000:.1f} ms; matcher build: {(t2 - t1) * 1000:.1f} ms"
        f" ({matcher_for(policy).size:,} terms)"
    )
    print(f"comments: {args.comments:,} x ~{avg_len:.0f} chars")
    print(
        f"median: {median * 1000:.3f} ms  p99: {p99 * 1000:.3f} ms  "
        f"throughput: {len(times) / sum(times):,.0f} comments/s (one core)"
    )


if __name__ == "__main__":
    main()
