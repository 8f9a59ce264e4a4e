"""Browser tests: a real ``margin serve`` process (SQLite, demo site) and headless Chromium.

Chromium is Debian's ``/usr/bin/chromium`` driven by Playwright. Without it the tests skip, except
in CI (``CI`` set), where a missing browser is a failure. Every test's page records every request
and, at the end, the test fails if any went to a host other than Margin's and the publisher's, or
if any cookie was set.

The publisher's article pages come from a second real web server on another port of 127.0.0.1
(another origin), so the browser applies CORS to every request the widget makes, as it does on
a newspaper's site: the preflights, the allowed origins and the exposed headers are all real.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    sync_playwright,
)

from service.db import Database
from tests.factories import make_moderator, make_site
from tests.live import live_server

CHROMIUM = Path(os.environ.get("MARGIN_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "artifacts" / "screenshots"
DEMO_THREAD = "/2020/12/18/zoom-data"


# Small enough that a comment within the 10,000-character limit can still be too large in bytes
# (emoji are four bytes each), so the widget's 413 path runs against the real server.
MAX_REQUEST_BYTES = 32 * 1024
BUSY_TIMEOUT_MS = 3000


class Publisher:
    """A publisher's web server on its own port: serves the article pages the tests register,
    with a Content-Security-Policy that allows Margin's origin and nothing else (the one
    docs/widget.md gives publishers)."""

    def __init__(self, margin_base: str) -> None:
        self.pages: dict[str, str] = {}
        self.csp = (
            f"default-src 'none'; script-src {margin_base}; style-src 'unsafe-inline' {margin_base};"
            f" connect-src {margin_base}; img-src data:; base-uri 'none'"
        )
        pages, csp = self.pages, self.csp

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                html = pages.get(self.path.split("#")[0])
                body = (html or "not found").encode()
                self.send_response(200 if html is not None else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Security-Policy", csp)
                self.send_header("Cache-Control", "no-store")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                del format, args

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Margin:
    base: str
    db: Database
    root: Path
    publisher: Publisher
    moderator: str = ""

    def api(self, path: str) -> str:
        return f"{self.base}/api/v1{path}"

    def open_site(self, slug: str, **policy: Any) -> str:
        make_site(
            self.db,
            slug,
            origins=[self.publisher.base],
            # The bot-timing rules are tested by the moderation suite; here the browser
            # types faster than a person, so they are off unless a test turns them on.
            policy={
                "mode": "publish",
                "require_form_token": False,  # so seeding through the API publishes too
                "min_seconds_to_submit": 0,
                "max_chars_per_second": 0,
                "spam_hold_threshold": 1.0,
                "spam_threshold": 1.0,
                **policy,
            },
        )
        return slug

    def post(self, site: str, **fields: Any) -> dict[str, Any]:
        payload = {
            "thread": DEMO_THREAD,
            "author_name": "Seeder",
            "email": f"seed-{uuid.uuid4().hex[:8]}@example.org",
            "body": f"Seeded {uuid.uuid4().hex}",
            **fields,
        }
        response = httpx.post(
            self.api(f"/sites/{site}/comments"),
            json=payload,
            headers={"Origin": self.publisher.base},
        )
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()
        return data

    def decide(self, comment_id: int, action: str = "approve") -> None:
        response = httpx.post(
            self.api(f"/moderation/comments/{comment_id}/decision"),
            json={"action": action, "reason": "reviewed in the browser test"},
            headers={"Authorization": f"Bearer {self.moderator}"},
        )
        assert response.status_code == 200, response.text


@pytest.fixture(scope="session")
def margin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Margin]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is required in CI for the browser tests")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium); browser tests skipped")
    root = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{root / 'margin.db'}"
    # The demo seeding writes var/demo-moderator-token relative to the server's working
    # directory: start it in the temporary directory, never over a developer's own token.
    here = Path.cwd()
    os.chdir(root)
    try:
        server = live_server(
            url,
            root / "keys.json",
            extra_env={
                "MARGIN_DEMO": "1",
                "MARGIN_ENV": "development",
                "MARGIN_MAX_REQUEST_BYTES": str(MAX_REQUEST_BYTES),
                # A writer gives up on a held lock after 3 s instead of 10 (answered 503), so
                # the widget's real 503 path takes seconds to test (one writer: nothing else
                # waits for the lock here).
                "MARGIN_SQLITE_BUSY_TIMEOUT_MS": str(BUSY_TIMEOUT_MS),
            },
        )
        base = server.__enter__()
    finally:
        os.chdir(here)
    db = Database(url)
    publisher = Publisher(base)
    try:
        token = (root / "var" / "demo-moderator-token").read_text().strip()
        yield Margin(base=base, db=db, root=root, publisher=publisher, moderator=token)
    finally:
        publisher.close()
        db.dispose()
        server.__exit__(None, None, None)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright, margin: Margin) -> Iterator[Browser]:
    del margin  # skip (or fail in CI) before launching when Chromium is missing
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@dataclass
class Recorder:
    urls: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def context(browser: Browser, margin: Margin, recorder: Recorder) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.set_default_timeout(10_000)
    context.on("request", lambda request: recorder.urls.append(request.url))
    yield context
    cookies = context.cookies()
    context.close()
    assert cookies == [], f"cookies were set: {cookies}"
    ours = (margin.base + "/", margin.publisher.base + "/", "blob:")  # blob: a file to save
    foreign = [u for u in recorder.urls if not u.startswith(ours)]
    assert foreign == [], f"requests to hosts other than Margin: {foreign}"
    assert recorder.errors == [], f"JavaScript errors: {recorder.errors}"


@pytest.fixture
def page(context: BrowserContext, recorder: Recorder) -> Page:
    page = context.new_page()
    page.on("pageerror", lambda error: recorder.errors.append(str(error)))

    def csp_violation(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            recorder.errors.append(message.text)

    page.on("console", csp_violation)
    return page


def host_page(
    page: Page, margin: Margin, tags: str, *, path: str = "/host/article", lang: str = "en"
) -> str:
    """A publisher's article page on the publisher's server (another origin than Margin's),
    with hostile CSS; ``src="/embed.js"`` in ``tags`` is Margin's loader."""
    del page
    tags = tags.replace('src="/embed.js"', f'src="{margin.base}/embed.js"')
    html = (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>Host article</title>'
        '<link rel="icon" href="data:,"><style>* { font-family: serif !important; color: red; }'
        " button { display: none; } div { border: 5px solid lime; }</style></head><body>"
        f'<a href="#top" id="before">Top of the page</a><article><h1>An article</h1></article>{tags}'
        "</body></html>"
    )
    margin.publisher.pages[path] = html
    return f"{margin.publisher.base}{path}"


def widget_tag(site: str, thread: str = DEMO_THREAD, **attrs: str) -> str:
    extra = "".join(f' data-margin-{k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    return (
        f'<script src="/embed.js" data-margin-site="{site}" data-margin-thread="{thread}"{extra} '
        "async></script>"
    )


@pytest.fixture
def moderator_token(margin: Margin) -> str:
    return make_moderator(margin.db, "demo")
