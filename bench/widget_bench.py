"""Widget benchmark: time from the embed script starting to load to the first comments painted.

Starts a real ``margin serve`` (SQLite) with threads of 200 and 10,000 comments, opens a host
page in headless Chromium (Debian's /usr/bin/chromium through Playwright) and reads two marks
from the page: the start of the ``/embed.js`` request (Resource Timing) and ``margin:painted``,
which the widget sets in the first animation frame after its first comments are in the DOM.
Each case runs with a cold cache (new browser context) several times; the median is reported.

    .venv/bin/python bench/widget_bench.py [--runs 5] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Route, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service.db import Database
from service.migrate import upgrade
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.seed import seed_thread
from tests.factories import make_site
from tests.live import live_server

CASES = {"200": (180, 10), "10000": (9800, 50)}  # thread -> (top-level, a reply pair every n)

MEASURE = """() => new Promise((resolve) => {
  const done = () => {
    const paint = performance.getEntriesByName('margin:painted')[0];
    const load = performance.getEntriesByType('resource').find(e => e.name.endsWith('/embed.js'));
    const root = document.querySelector('.margin-comments').shadowRoot;
    resolve({painted: paint.startTime, loader_start: load.startTime,
             comments: root.querySelectorAll('.m-c').length});
  };
  if (performance.getEntriesByName('margin:painted').length) done();
  else document.addEventListener('margin:painted', () => setTimeout(done, 0));
})"""


def serve(html: str) -> Callable[[Route], None]:
    def handler(route: Route) -> None:
        route.fulfill(body=html, content_type="text/html; charset=utf-8")

    return handler


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="margin-widget-bench-"))
    url = f"sqlite:///{root / 'margin.db'}"
    upgrade(url)
    results: dict[str, dict[str, float]] = {}
    with live_server(url, root / "keys.json") as base:
        db = Database(url)
        make_site(db, "bench", origins=[base], policy={"mode": "publish"})
        for name, (roots, every) in CASES.items():
            started = time.perf_counter()
            seed_thread(db, "bench", f"/t{name}", roots, replies_every=every)
            print(f"seeded /t{name} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        db.dispose()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            for name in CASES:
                host = f"{base}/bench/{name}"
                html = (
                    '<!doctype html><html lang="en"><head><meta charset="utf-8">'
                    '<link rel="icon" href="data:,"><title>Bench</title></head><body>'
                    "<h1>Article</h1><p>Text.</p>"
                    '<script src="/embed.js" data-margin-site="bench" '
                    f'data-margin-thread="/t{name}" async></script></body></html>'
                )
                times, loaded = [], 0
                for _ in range(args.runs + 1):  # the first run warms the server, not the browser
                    context = browser.new_context()
                    page = context.new_page()
                    page.route(host, serve(html))
                    page.goto(host)
                    m = page.evaluate(MEASURE)
                    times.append(m["painted"] - m["loader_start"])
                    loaded = m["comments"]
                    context.close()
                times = times[1:]
                results[name] = {
                    "median_ms": round(statistics.median(times), 1),
                    "min_ms": round(min(times), 1),
                    "max_ms": round(max(times), 1),
                    "comments_painted": loaded,
                }
                print(
                    f"{name:>6}-comment thread: script load -> first comments painted "
                    f"median {results[name]['median_ms']} ms (min {results[name]['min_ms']}, "
                    f"max {results[name]['max_ms']}; {loaded} comments on the first page)"
                )
            browser.close()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
