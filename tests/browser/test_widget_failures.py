"""The widget never fails silently, shows every outcome at once, and gives readers their
controls (report, "my data"): in Chromium, on a publisher's page served from another origin than
Margin's, against the real server (real CORS, real 413 and 429, real moderation outcomes)."""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Locator, Page, Route, expect
from sqlmodel import select

from service.comments.models import Comment, CommentFlag
from tests.browser.conftest import (
    BUSY_TIMEOUT_MS,
    DEMO_THREAD,
    MAX_REQUEST_BYTES,
    Margin,
    host_page,
    widget_tag,
)
from tests.browser.test_widget_browser import fill_form, outcome, unique
from tests.factories import make_site

pytestmark = pytest.mark.browser


def widget(page: Page) -> Locator:
    return page.locator(".margin-comments")


def test_post_after_a_failed_config_shows_a_message_and_works_after_retry(
    page: Page, margin: Margin
) -> None:
    """The settings request fails at load and again when Post is pressed: each time the reader
    is told, with a "Try again" that loads the settings and then posts."""
    site = margin.open_site("configfail")
    config = f"{margin.base}/api/v1/sites/{site}/config"
    attempts: list[str] = []
    failing = True

    def config_route(route: Route) -> None:
        attempts.append(route.request.url)
        if failing:
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route(config, config_route)
    page.goto(host_page(page, margin, widget_tag(site), path="/host/configfail"))
    w = widget(page)
    expect(w.locator(".m-count")).to_have_text("0 comments")  # the comments still load
    expect(outcome(w)).to_contain_text("could not load its settings")
    body = unique("Posted once the settings arrive")
    fill_form(w, name="Carla Config", email="carla@example.org", body=body)
    w.get_by_role("button", name="Post Comment").click()
    expect(outcome(w)).to_contain_text("could not load its settings")
    expect(outcome(w)).to_contain_text("Nothing you typed is lost")
    assert len(attempts) >= 2, "pressing Post asked for the settings again"
    expect(w.locator(".m-form [name=body]")).to_have_value(body)

    failing = False
    outcome(w).get_by_role("button", name="Try again").click()
    expect(outcome(w)).to_have_text("Thank you! Your comment is published.")
    expect(w.locator(".m-list .m-c")).to_contain_text(body)
    expect(w.locator(".m-next")).to_contain_text("published right away")  # settings applied


def test_comments_that_fail_to_load_are_retried_with_the_settings(
    page: Page, margin: Margin
) -> None:
    site = margin.open_site("listfail")
    margin.post(site, author_name="Lena List", body="Visible after the retry")
    failing = True

    def fail_while_asked(route: Route) -> None:
        if failing:
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route(re.compile(rf"{re.escape(margin.base)}/api/v1/sites/{site}/.*"), fail_while_asked)
    page.goto(host_page(page, margin, widget_tag(site), path="/host/listfail"))
    w = widget(page)
    expect(w.locator(".m-note")).to_contain_text("The comments could not be loaded.")
    failing = False
    w.locator(".m-note").get_by_role("button", name="Try again").click()
    expect(w.locator(".m-list .m-c")).to_contain_text("Visible after the retry")
    expect(w.locator(".m-next")).to_contain_text("published right away")  # the config too


def test_an_unregistered_origin_gets_an_actionable_message(page: Page, margin: Margin) -> None:
    """The publisher is told, on the page and in the console, which origin to register and
    how; the reader's Post says the same instead of doing nothing."""
    make_site(margin.db, "elsewhere", origins=["https://news.example"])
    console: list[str] = []

    def keep_errors(message: ConsoleMessage) -> None:
        if message.type == "error":
            console.append(message.text)

    page.on("console", keep_errors)
    page.goto(host_page(page, margin, widget_tag("elsewhere"), path="/host/unregistered"))
    w = widget(page)
    origin = margin.publisher.base
    command = f"margin site update elsewhere --origin {origin}"
    notice = w.locator(".m-notice")
    expect(notice).to_contain_text(
        f"its address {origin} is not registered for the comment site “elsewhere”"
    )
    expect(notice).to_contain_text(command)
    fill_form(w, name="Olga Origin", email="olga@example.org", body="Posting where I may not")
    w.get_by_role("button", name="Post Comment").click()
    expect(outcome(w)).to_contain_text(command)
    mine = [m for m in console if m.startswith("Margin:")]
    assert len(mine) == 1 and command in mine[0], console


def test_an_unknown_site_name_says_which_attribute_to_check(page: Page, margin: Margin) -> None:
    page.goto(host_page(page, margin, widget_tag("no-such-site"), path="/host/nosite"))
    notice = widget(page).locator(".m-notice")
    expect(notice).to_contain_text("There is no comment site called “no-such-site”")
    expect(notice).to_contain_text("data-margin-site")
    expect(notice).to_contain_text(
        f"margin site create no-such-site --origin {margin.publisher.base}"
    )


def test_a_comment_too_large_in_bytes_gets_the_real_413(page: Page, margin: Margin) -> None:
    site = margin.open_site("bytes")
    page.goto(host_page(page, margin, widget_tag(site), path="/host/bytes"))
    w = widget(page)
    body = "\U0001f600" * 9000  # 9,000 characters (the limit is 10,000) but 36,000 bytes
    assert len(body.encode()) > MAX_REQUEST_BYTES
    fill_form(w, name="Emma Emoji", email="emma@example.org", body=body)
    w.get_by_role("button", name="Post Comment").click()
    expect(outcome(w)).to_have_text(
        "Your comment is too large to send. Please shorten it and post it again."
    )
    expect(w.locator(".m-form [name=body]")).to_have_value(body)


def test_a_locked_database_gets_the_real_503_and_the_retry_posts_once(
    page: Page, margin: Margin
) -> None:
    """Another program holds SQLite's write lock past the busy timeout: the server answers 503
    with Retry-After (the header only), the widget says when to retry and keeps the text; its
    "Try again" posts once the lock is free."""
    site = margin.open_site("locked")
    page.goto(host_page(page, margin, widget_tag(site), path="/host/locked"))
    w = widget(page)
    body = unique("Sent while the database was busy")
    fill_form(w, name="Lou Locked", email="lou@example.org", body=body)
    blocker = sqlite3.connect(margin.root / "margin.db", isolation_level=None, timeout=30)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        w.get_by_role("button", name="Post Comment").click()
        expect(outcome(w)).to_contain_text(
            "The comment service is temporarily unavailable. Please try again in 5 seconds.",
            timeout=BUSY_TIMEOUT_MS + 30_000,
        )
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    expect(w.locator(".m-form [name=body]")).to_have_value(body)
    outcome(w).get_by_role("button", name="Try again").click()
    expect(outcome(w)).to_have_text("Thank you! Your comment is published.")
    with margin.db.read() as session:
        stored = session.exec(select(Comment).where(Comment.body == body)).all()
    assert len(stored) == 1


def test_retry_after_is_read_across_origins(page: Page, margin: Margin) -> None:
    """The API's Access-Control-Expose-Headers lets the publisher's page read Retry-After; the
    widget says when to retry from it."""
    site = margin.open_site("retry", rate_limits={"ip": {"limit": 1, "window_seconds": 3600}})
    page.goto(host_page(page, margin, widget_tag(site), path="/host/retry"))
    w = widget(page)
    fill_form(w, name="Rory Retry", email="rory@example.org", body="The first of two")
    w.get_by_role("button", name="Post Comment").click()
    expect(outcome(w)).to_have_text("Thank you! Your comment is published.")
    w.locator(".m-form [name=body]").fill("The second, too soon")
    w.get_by_role("button", name="Post Comment").click()
    expect(outcome(w)).to_contain_text(
        "You are posting too quickly. Please try again in 60 minutes"
    )
    expect(outcome(w).get_by_role("button", name="Try again")).to_be_visible()
    status, header, in_body = page.evaluate(
        """async ([url, payload]) => {
          const r = await fetch(url, {method: 'POST', credentials: 'omit',
            headers: {'Content-Type': 'application/json'}, body: JSON.stringify(payload)});
          return [r.status, r.headers.get('Retry-After'), (await r.json()).error.retry_after];
        }""",
        [
            margin.api(f"/sites/{site}/comments"),
            {
                "thread": DEMO_THREAD,
                "author_name": "Rory Retry",
                "email": "rory@example.org",
                "body": "A third",
            },
        ],
    )
    assert status == 429
    assert header is not None, "Retry-After is not exposed to the publisher's page"
    assert int(header) == in_body and 3500 < in_body <= 3600


def test_every_outcome_is_shown_at_once_and_once(page: Page, margin: Margin) -> None:
    """Held, spam and rejected are shown to the author without a reload, with a badge and the
    server's reason said once; the form is cleared so nobody posts the same text again."""
    held = margin.open_site("held", mode="premoderate_first")
    page.goto(host_page(page, margin, widget_tag(held), path="/host/held"))
    w = widget(page)
    fill_form(w, name="Hana Held", email="hana@example.org", body="Held for a first look")
    w.get_by_role("button", name="Post Comment").click()
    expect(outcome(w)).to_contain_text("Thank you! Your comment is held for review")
    expect(outcome(w)).to_contain_text("first comment")
    said = outcome(w).inner_text()
    assert said.count("held for review") == 1, said
    mine = w.locator(".m-own-list .m-c")
    expect(mine.locator(".m-badge")).to_have_text("Awaiting moderation")
    reason = mine.locator(".m-reason").inner_text()
    assert "held for review" not in reason and "first comment" in reason, reason
    expect(w.locator(".m-form [name=body]")).to_have_value("")

    # a link to a domain the site blocks is decisive evidence: marked spam without a person
    fast = margin.open_site("fast", blocked_domains=["casino.example"])
    page.goto(host_page(page, margin, widget_tag(fast), path="/host/fast"))
    fill_form(w, name="Sam Speedy", email="sam@example.org", body="Win big at casino.example now")
    w.get_by_role("button", name="Post Comment").click()
    expect(outcome(w)).to_contain_text(
        "Your comment was not published because it looks like spam: links to a site"
    )
    expect(w.locator(".m-own-list .m-c .m-badge")).to_have_text("Marked as spam")
    expect(w.locator(".m-own-list .m-c .m-reason")).to_contain_text("blocked list")
    expect(w.locator(".m-form [name=body]")).to_have_value("")

    strict = margin.open_site("strict", blocked_words=["idiot"])
    page.goto(host_page(page, margin, widget_tag(strict), path="/host/strict"))
    fill_form(w, name="Rex Rude", email="rex@example.org", body="What an idiot")
    w.get_by_role("button", name="Post Comment").click()
    expect(outcome(w)).to_contain_text("Your comment was not published: ")
    expect(outcome(w)).to_contain_text("blocked word")
    expect(w.locator(".m-own-list .m-c .m-badge")).to_have_text("Not published")
    expect(w.locator(".m-list:not(.m-own-list) .m-c")).to_have_count(0)


def test_a_reader_reports_a_comment(page: Page, margin: Margin) -> None:
    site = margin.open_site("reports")
    target = margin.post(site, author_name="Tom Troll", body="Buy cheap watches")
    page.goto(host_page(page, margin, widget_tag(site), path="/host/reports"))
    w = widget(page)
    w.get_by_role("button", name="Report the comment by Tom Troll").click()
    form = w.locator(".m-report")
    expect(form.get_by_label("What is wrong with this comment?")).to_be_focused()
    form.get_by_label("What is wrong with this comment?").select_option("spam")
    form.get_by_label("Anything a moderator should know").fill("An advert for watches")
    form.get_by_role("button", name="Send report").click()
    expect(w.locator(".m-reported")).to_have_text(
        "Thank you. A moderator will look at this comment if other readers agree."
        " It stays visible meanwhile."
    )
    expect(w.locator(f"#comment-{target['id']} .m-body")).to_contain_text("Buy cheap watches")
    with margin.db.read() as session:
        flags = session.exec(
            select(CommentFlag).where(CommentFlag.comment_id == target["id"])
        ).all()
    assert [(f.category, f.note) for f in flags] == [("spam", "An advert for watches")]


def test_my_data_exports_and_erases_by_the_stored_edit_tokens(
    page: Page, margin: Margin, tmp_path: Path
) -> None:
    site = margin.open_site("mydata")
    page.goto(host_page(page, margin, widget_tag(site), path="/host/mydata"))
    w = widget(page)
    w.get_by_role("button", name="Your data").click()
    expect(w.locator(".m-data")).to_contain_text("This browser holds no comments of yours")
    bodies = [unique("My first remark"), unique("My second remark")]
    for body in bodies:
        fill_form(w, name="Dana Data", email="dana@example.org", body=body)
        w.get_by_role("button", name="Post Comment").click()
        expect(outcome(w)).to_have_text("Thank you! Your comment is published.")
    w.get_by_role("button", name="Your data").click()  # closed
    w.get_by_role("button", name="Your data").click()  # opened again: counts afresh
    data = w.locator(".m-data")
    expect(data).to_contain_text("holds the keys of 2 of your comments")

    with page.expect_download() as download:
        data.get_by_role("button", name="Download my data").click()
    saved = tmp_path / "export.json"
    download.value.save_as(saved)
    exported = json.loads(saved.read_text())
    assert sorted(c["body"] for c in exported["comments"]) == sorted(bodies)
    assert {(c["author_name"], c["email"]) for c in exported["comments"]} == {
        ("Dana Data", "dana@example.org")
    }
    expect(data).to_contain_text("2 comments exported.")

    data.get_by_role("button", name="Erase my data").click()
    expect(data).to_contain_text("This cannot be undone.")
    data.get_by_role("button", name="Yes, erase it").click()
    expect(data).to_contain_text("Done: the personal data of 2 comments is erased.")
    expect(data).to_contain_text("This browser holds no comments of yours")
    listed = w.locator(".m-list .m-c")
    expect(listed).to_have_count(2)
    expect(listed.locator(".m-author").first).to_have_text("Anonymous")
    assert "Dana Data" not in listed.first.inner_text()
    ids = [int(i) for i in exported_ids(exported)]
    with margin.db.read() as session:
        rows = session.exec(select(Comment).where(Comment.id.in_(ids))).all()  # type: ignore[union-attr]
    assert {(r.author_name, r.email_ciphertext) for r in rows} == {("Anonymous", None)}
    assert page.evaluate("localStorage.getItem('margin.own')") in ("{}", None)


def exported_ids(exported: dict[str, list[dict[str, object]]]) -> list[str]:
    return [str(c["id"]) for c in exported["comments"]]


def test_the_widget_loads_under_the_publishers_csp_from_another_origin(
    page: Page, margin: Margin
) -> None:
    """The publisher's page is another origin with the CSP docs/widget.md gives; the widget
    loads, lists and posts through real CORS (the page fixture fails on any CSP violation)."""
    site = margin.open_site("csp")
    margin.post(site, author_name="Cora Cors", body="Across origins")
    url = host_page(page, margin, widget_tag(site), path="/host/csp")
    assert not url.startswith(margin.base)
    response = page.goto(url)
    assert response is not None and "script-src" in response.headers["content-security-policy"]
    w = widget(page)
    expect(w.locator(".m-c")).to_contain_text("Across origins")
    body = f"A reply {uuid.uuid4().hex[:6]}"
    fill_form(w, name="Pia Publisher", email="pia@example.org", body=body)
    w.get_by_role("button", name="Post Comment").click()
    expect(outcome(w)).to_have_text("Thank you! Your comment is published.")
