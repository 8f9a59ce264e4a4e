"""Per-stage CPU time of issue 19's shapes, runnable against any checkout (before and after).

Run: PYTHONPATH=CHECKOUT .venv/bin/python bench/hostile_stages.py [SHAPE ...]

Uses only what every version has (``moderation.moderate``, ``rendering.render``,
``writing.dedupe_key``), so pointing PYTHONPATH at an older checkout measures it the same way.
Prints moderation (a 1,000-term word list, links), Markdown and the duplicate key, in ms of
this thread's CPU time, for each named shape (all of them by default; an old checkout may take
minutes on some: run those one per process under ``timeout``).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from service import moderation
from service.comments import rendering
from service.comments.writing import dedupe_key
from service.moderation.normalise import fold

SHAPES = {
    "[a]( x2500": "[a](" * 2500,
    "* x10000": "*" * 10000,
    "a. x5000": "a." * 5000,
    "[ x10000": "[" * 10000,
    "a\\n x5000": "a\n" * 5000,
    "} x10000": "}" * 10000,
    "< x10000": "<" * 10000,
    "marks": "a" + "\u0301\u0316" * 4999 + "b",
    "U+FDFA x10000": "\ufdfa" * 10000,
    "mixed scripts with dots": (
        ".".join("a\u0430\u03b1\u05d0\u0627\u4e2d\u3042\u0915\u0e01\uac00") * 600
    )[:10000],
}


def policy() -> moderation.Policy:
    return moderation.Policy.from_dict(
        {
            "mode": "publish",
            "blocked_words": [f"blockedword{i}" for i in range(1000)] + ["spam", "casino"],
            "suspect_presets": ["self_promotion"],
            "blocked_domains": ["casino.example"],
            "max_links": 3,
        }
    )


def cpu_ms(fn: Callable[[], object]) -> float:
    fold.cache_clear()
    started = time.thread_time()
    fn()
    return (time.thread_time() - started) * 1000


def main() -> None:
    site = policy()
    site.matcher  # noqa: B018 - built once, as a running server has it
    for name in sys.argv[1:] or list(SHAPES):
        body = SHAPES[name]
        sub = moderation.Submission(body=body, author_name="A Reader")
        facts = moderation.Facts(now=0.0)
        stages = {
            "moderation": cpu_ms(lambda: moderation.moderate(sub, facts, site)),  # noqa: B023
            "render": cpu_ms(lambda: rendering.render(body)),  # noqa: B023
            "dedupe": cpu_ms(lambda: dedupe_key(body)),  # noqa: B023
        }
        parts = " ".join(f"{k} {v:.1f}" for k, v in stages.items())
        print(f"{name}: {parts} total {sum(stages.values()):.1f}", flush=True)


if __name__ == "__main__":
    main()
