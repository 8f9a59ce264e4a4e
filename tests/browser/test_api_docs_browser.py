"""The API reference at /docs in headless Chromium, under Margin's own Content-Security-Policy."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from tests.browser.conftest import Margin, Recorder

pytestmark = pytest.mark.browser

WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


def test_docs_render_every_operation_offline_under_csp(
    page: Page, margin: Margin, recorder: Recorder
) -> None:
    """/docs lists the API's operations from Margin's own files: no CSP violation, no request
    to another host (the context fixture fails the test on any), no inline script."""
    console: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            console.append(message.text)

    page.on("console", on_console)
    page.add_init_script(WATCH_CSP)
    response = page.goto(f"{margin.base}/docs")
    assert response is not None
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp

    expected = len(
        [
            op
            for ops in httpx.get(f"{margin.base}/openapi.json").json()["paths"].values()
            for op in ops
        ]
    )
    assert expected > 20
    blocks = page.locator(".opblock")
    expect(blocks.first).to_be_visible()
    expect(blocks).to_have_count(expected)
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/sites/{site}/comments").first)
    expect(page.locator(".info .title")).to_contain_text("Margin")

    # Opening an operation shows its parameters and responses (rendered by the same bundle).
    blocks.first.locator(".opblock-summary").click()
    expect(page.locator(".responses-wrapper").first).to_be_visible()

    violations = page.evaluate("window.__cspViolations")
    assert violations == [], violations
    refused = [m for m in console if "Content Security Policy" in m or "Refused" in m]
    assert refused == [], refused
    assert all(u.startswith(margin.base + "/") for u in recorder.urls)
    # no script came from anywhere but /docs/static
    scripts = page.eval_on_selector_all("script", "els => els.map(e => e.src)")
    assert scripts and all(s.startswith(f"{margin.base}/docs/static/") for s in scripts)
