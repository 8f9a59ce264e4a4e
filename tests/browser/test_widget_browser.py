"""The widget in headless Chromium against a real server: the whole reader journey."""

from __future__ import annotations

import json
import re
import uuid

import httpx
import pytest
from playwright.sync_api import Locator, Page, Route, expect

from tests.browser.conftest import (
    DEMO_THREAD,
    SCREENSHOTS,
    Margin,
    Recorder,
    host_page,
    widget_tag,
)
from tests.browser.seed import seed_thread
from tests.factories import make_site

pytestmark = pytest.mark.browser


def fill_form(w: Locator, *, name: str, email: str, body: str, website: str = "") -> None:
    w.locator(".m-form [name=author_name]").fill(name)
    w.locator(".m-form [name=email]").fill(email)
    if website:
        w.locator(".m-form [name=website]").fill(website)
    w.locator(".m-form [name=body]").fill(body)


def outcome(w: Locator) -> Locator:
    return w.locator(".m-outcome")


def unique(text: str) -> str:
    return f"{text} ({uuid.uuid4().hex[:6]})"


def test_demo_page_desktop_and_mobile(page: Page, margin: Margin) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{margin.base}/demo")
    w = page.locator(".margin-comments")
    expect(w.locator(".m-count")).to_have_text("2 comments")
    expect(w.locator(".m-c")).to_have_count(2)
    expect(w.get_by_role("heading", name="Leave a Reply")).to_be_visible()
    expect(w.get_by_text("Will not be published.")).to_be_visible()
    # every field has a label and its hint is read with it
    email = w.get_by_role("textbox", name="Email (required)")
    expect(email).to_have_attribute("aria-describedby", re.compile("email-hint"))
    expect(w.get_by_role("textbox", name="Website (optional)")).to_be_visible()
    expect(w.get_by_role("textbox", name="Comment (required)")).to_be_visible()
    expect(w.locator(".m-next")).to_contain_text("read by a moderator before it is published")
    # identicons are drawn from the keyed avatar hash, never fetched
    expect(w.locator("svg.m-avatar").first).to_be_visible()
    time = w.locator(".m-c time").first
    assert re.match(r"\d+ hours? ago", time.inner_text())
    assert time.get_attribute("title")
    page.screenshot(path=str(SCREENSHOTS / "demo-desktop.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(w.locator(".m-c")).to_have_count(2)
    page.screenshot(path=str(SCREENSHOTS / "demo-mobile.png"), full_page=True)
    assert (SCREENSHOTS / "demo-mobile.png").stat().st_size > 10_000


def test_post_pending_then_approved_after_reload(page: Page, margin: Margin) -> None:
    page.goto(f"{margin.base}/demo")
    w = page.locator(".margin-comments")
    body = unique("Which regulators are looking into this?")
    fill_form(w, name="Nadia Pending", email="nadia@example.org", body=body)
    # the demo site keeps the moderation engine's timing rule: a person takes > 3 s
    page.wait_for_timeout(3200)
    w.get_by_role("button", name="Post Comment").click()
    expect(outcome(w)).to_contain_text("held for review")
    expect(outcome(w)).to_contain_text("first comment from each name and email")
    mine = w.locator(".m-own-list .m-c")
    expect(mine).to_have_count(1)
    expect(mine.locator(".m-badge")).to_have_text("Awaiting moderation")
    expect(mine).to_contain_text(body)
    comment_id = int((mine.get_attribute("id") or "").split("-")[1])
    # still shown to its author after a reload (edit token in localStorage)
    page.reload()
    expect(w.locator(".m-own-list .m-c .m-badge")).to_have_text("Awaiting moderation")
    margin.decide(comment_id)
    page.reload()
    published = w.locator(f".m-list:not(.m-own-list) #comment-{comment_id}")
    expect(published).to_contain_text(body)
    expect(published.locator(".m-badge")).to_have_text("Published")
    expect(w.locator(".m-own-list .m-c")).to_have_count(0)
    expect(w.locator(".m-count")).to_have_text(re.compile(r"\d+ comments"))


def test_reply_is_nested_under_its_parent(page: Page, margin: Margin) -> None:
    site = margin.open_site("replies")
    parent = margin.post(site, author_name="Parent Poster", body="The parent comment")
    page.goto(host_page(page, margin, widget_tag(site)))
    w = page.locator(".margin-comments")
    w.get_by_role("button", name="Reply to Parent Poster").click()
    expect(w.locator(".m-replying")).to_have_text("Replying to Parent Poster")
    fill_form(w, name="Rita Reply", email="rita@example.org", body="A **nested** reply")
    w.get_by_role("button", name="Post Comment").click()
    expect(outcome(w)).to_have_text("Thank you! Your comment is published.")
    nested = w.locator(f"#comment-{parent['id']} > .m-replies > .m-c")
    expect(nested).to_contain_text("nested reply")
    expect(nested.locator("strong")).to_have_text("nested")
    page.reload()
    expect(w.locator(f"#comment-{parent['id']} > .m-replies > .m-c")).to_contain_text("reply")
    expect(w.locator(".m-count")).to_have_text("2 comments")


def test_paginate_a_1000_comment_thread_and_follow_a_permalink(page: Page, margin: Margin) -> None:
    site = margin.open_site("big")
    ids = seed_thread(margin.db, site, "/big", 1000, replies_every=50)
    url = host_page(page, margin, widget_tag(site, "/big"), path="/host/big")
    page.goto(url)
    w = page.locator(".margin-comments")
    expect(w.locator(".m-count")).to_have_text("1,040 comments")
    top = w.locator(".m-list > .m-c")
    expect(top).to_have_count(20)
    expect(w.locator(f"#comment-{ids[0]} .m-replies .m-c")).to_have_count(2)
    for pages in (2, 3):
        w.get_by_role("button", name="Load more comments").click()
        expect(top).to_have_count(20 * pages)
    # newest first re-pages from the other end
    w.get_by_label("Sort").select_option("newest")
    expect(top.first).to_have_attribute("id", f"comment-{ids[-1]}")
    # a permalink to a comment far down the thread loads pages until it is found
    target = ids[900]
    page.goto(f"{url}#comment-{target}")
    article = w.locator(f"#comment-{target} > article")
    expect(article).to_have_class(re.compile("m-target"))
    expect(article).to_be_in_viewport()
    expect(article).to_be_focused()


def test_edit_preview_and_delete_within_the_window(page: Page, margin: Margin) -> None:
    site = margin.open_site("edits")
    page.goto(host_page(page, margin, widget_tag(site)))
    w = page.locator(".margin-comments")
    fill_form(w, name="Eddie Editor", email="eddie@example.org", body="First *draft*")
    w.get_by_role("button", name="Preview").click()
    expect(w.locator(".m-preview em")).to_have_text("draft")
    w.get_by_role("button", name="Back to editing").click()
    w.get_by_role("button", name="Post Comment").click()
    expect(outcome(w)).to_have_text("Thank you! Your comment is published.")
    mine = w.locator(".m-list .m-c").last
    expect(mine.locator(".m-until")).to_contain_text("Editable until")
    mine.get_by_role("button", name="Edit", exact=True).click()
    editor = mine.get_by_label("Edit your comment")
    expect(editor).to_be_focused()
    editor.fill("Second, **better** draft")
    mine.get_by_role("button", name="Save changes").click()
    expect(mine.locator(".m-body strong")).to_have_text("better")
    expect(mine.locator(".m-edited")).to_be_visible()
    expect(outcome(w)).to_contain_text("Your changes are saved.")
    page.reload()
    expect(w.locator(".m-list .m-c").last).to_contain_text("Second, better draft")
    mine = w.locator(".m-list .m-c").last
    mine.get_by_role("button", name="Delete", exact=True).click()
    w.get_by_role("button", name="Yes, delete it").click()
    expect(outcome(w)).to_have_text("Your comment was deleted.")
    expect(w.locator(".m-list .m-c")).to_have_count(0)
    page.reload()
    expect(w.locator(".m-count")).to_have_text("0 comments")


def _fulfil(status: int, body: dict[str, object], headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    """A faked answer to the widget's POST, with the CORS headers the API would send."""

    def handler(route: Route) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        route.fulfill(
            status=status,
            content_type="application/json",
            headers={
                "Access-Control-Allow-Origin": route.request.headers.get("origin", "*"),
                "Access-Control-Expose-Headers": "Retry-After",
                **(headers or {}),
            },
            body=json.dumps(body),
        )

    return handler


def test_every_error_message(page: Page, margin: Margin, recorder: Recorder) -> None:
    site = margin.open_site("errors")
    url = host_page(page, margin, widget_tag(site))
    page.goto(url)
    w = page.locator(".margin-comments")
    post = w.get_by_role("button", name="Post Comment")
    api = f"{margin.base}/api/v1/sites/{site}/comments"

    # client-side validation, matching the server's limits: nothing is sent
    before = len(recorder.urls)
    post.click()
    expect(outcome(w)).to_have_text("Please correct the marked fields.")
    expect(w.locator(".m-f-author_name .m-err")).to_have_text("Name is required.")
    expect(w.locator(".m-f-body .m-err")).to_have_text("Comment is required.")
    expect(w.locator(".m-form [name=author_name]")).to_be_focused()
    expect(w.locator(".m-form [name=author_name]")).to_have_attribute("aria-invalid", "true")
    fill_form(w, name="x" * 65, email="not-an-email", body="y", website="ftp://example.org")
    post.click()
    expect(w.locator(".m-f-author_name .m-err")).to_contain_text("at most 64 characters")
    expect(w.locator(".m-f-email .m-err")).to_have_text(
        "Enter an email address like name@example.org."
    )
    expect(w.locator(".m-f-website .m-err")).to_contain_text("http:// or https://")
    w.locator(".m-form [name=body]").fill("z" * 10_001)
    expect(w.locator(".m-counter")).to_have_text("1 character too long")
    w.locator(".m-form [name=body]").fill("z" * 10_050)
    expect(w.locator(".m-counter")).to_have_text("50 characters too long")
    assert not any(u.startswith(api) for u in recorder.urls[before:])

    body = unique("Kept text that must survive every failure")
    w.locator(".m-form [name=website]").fill("")
    fill_form(w, name="Erin Errors", email="erin@example.org", body=body)
    field = w.locator(".m-form [name=body]")

    # the server's field errors are shown beside the field
    page.route(
        api,
        _fulfil(
            422,
            {
                "error": {
                    "code": "validation_error",
                    "message": "email: bad",
                    "fields": [{"field": "email", "message": "the mail domain does not exist"}],
                }
            },
        ),
    )
    post.click()
    expect(w.locator(".m-f-email .m-err")).to_have_text("the mail domain does not exist")
    page.unroute(api)

    # the database's 503 (only the Retry-After header says when; no retry_after in the body);
    # the real 413, 429 and moderation outcomes are in test_widget_failures.py
    page.route(
        api,
        _fulfil(
            503,
            {"error": {"code": "unavailable", "message": "db down"}},
            {"Retry-After": "5"},
        ),
    )
    post.click()
    expect(outcome(w)).to_contain_text("temporarily unavailable. Please try again in 5 seconds.")
    expect(field).to_have_value(body)
    page.unroute(api)

    # network failure: the text is kept, and the retry reuses the Idempotency-Key
    keys: list[str] = []
    page.on(
        "request",
        lambda r: (
            keys.append(r.headers.get("idempotency-key", ""))
            if r.url == api and r.method == "POST"
            else None
        ),
    )
    page.route(api, lambda route: route.abort("internetdisconnected"))
    post.click()
    expect(outcome(w)).to_contain_text(
        "Could not reach the comment server. Nothing you typed is lost"
    )
    expect(field).to_have_value(body)
    page.unroute(api)
    post.click()
    expect(outcome(w)).to_have_text("Thank you! Your comment is published.")
    assert len(keys) >= 2 and keys[-1] == keys[-2] and keys[-1]
    expect(w.locator(".m-list .m-c")).to_have_count(1)

    # a real duplicate (409)
    fill_form(w, name="Erin Errors", email="erin@example.org", body=body)
    post.click()
    expect(outcome(w)).to_have_text("You have already posted this comment here.")
    public = httpx.get(f"{api}?thread={DEMO_THREAD}").json()
    assert [c["html"] for c in public["comments"]].count(f"<p>{body}</p>") == 1

    # a real 429 from the flood limits, with when to retry; the text is kept
    limited = margin.open_site("limited", rate_limits={"ip": {"limit": 1, "window_seconds": 600}})
    page.goto(host_page(page, margin, widget_tag(limited), path="/host/limited"))
    fill_form(w, name="Rapid Rae", email="rae@example.org", body="My first point")
    w.get_by_role("button", name="Post Comment").click()
    expect(outcome(w)).to_have_text("Thank you! Your comment is published.")
    w.locator(".m-form [name=body]").fill("My second point, right away")
    w.get_by_role("button", name="Post Comment").click()
    expect(outcome(w)).to_contain_text(
        re.compile(r"You are posting too quickly\. Please try again in \d+ (seconds|minutes)")
    )
    expect(w.locator(".m-form [name=body]")).to_have_value("My second point, right away")


def test_keyboard_only_posting(page: Page, margin: Margin) -> None:
    site = margin.open_site("keyboard")
    page.goto(host_page(page, margin, widget_tag(site)))
    w = page.locator(".margin-comments")
    expect(w.locator(".m-count")).to_have_text("0 comments")
    page.locator("#before").focus()

    def active() -> str:
        return str(
            page.evaluate(
                "() => { const h = document.querySelector('.margin-comments');"
                " const a = h.shadowRoot.activeElement;"
                " return a ? (a.name || a.className || a.tagName) : ''; }"
            )
        )

    for _ in range(5):  # from the page into the widget: sort, then "Leave a reply"
        page.keyboard.press("Tab")
        if active() == "m-jump":
            break
    assert active() == "m-jump"
    page.keyboard.press("Enter")
    assert active() == "author_name"
    page.keyboard.type("Kim Keys")
    page.keyboard.press("Tab")
    assert active() == "email"
    page.keyboard.type("kim@example.org")
    page.keyboard.press("Tab")
    assert active() == "website"
    page.keyboard.press("Tab")
    assert active() == "body"
    page.keyboard.type("Typed without a mouse.")
    page.keyboard.press("Tab")  # the honeypot is skipped: next is "remember me"
    assert active() == "m-check"
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    assert "m-primary" in active()
    page.keyboard.press("Enter")
    expect(outcome(w)).to_have_text("Thank you! Your comment is published.")
    expect(w.locator(".m-list .m-c")).to_contain_text("Typed without a mouse.")
    stored = page.evaluate("localStorage.getItem('margin.identity')")
    assert json.loads(stored)["name"] == "Kim Keys"


def test_nothing_is_remembered_without_consent(page: Page, margin: Margin) -> None:
    site = margin.open_site("consent")
    url = host_page(page, margin, widget_tag(site))
    page.goto(url)
    w = page.locator(".margin-comments")
    fill_form(w, name="Nora Nomemory", email="nora@example.org", body="No remembering, please")
    w.get_by_role("button", name="Post Comment").click()
    expect(outcome(w)).to_contain_text("published")
    assert page.evaluate("localStorage.getItem('margin.identity')") is None
    page.reload()
    expect(w.locator(".m-form [name=author_name]")).to_have_value("")
    expect(w.get_by_label("Remember my name")).not_to_be_checked()


def test_several_widgets_languages_and_host_css(page: Page, margin: Margin) -> None:
    site = margin.open_site("multi")
    margin.post(site, thread="/a", author_name="Alpha", body="On article A")
    margin.post(site, thread="/b", author_name="Beta", body="On article B")
    tags = (
        widget_tag(site, "/a", lang="de")
        + "<p>Between the widgets</p>"
        + widget_tag(site, "/b", lang="fr")
        + '<div lang="en">'
        + widget_tag(site, "/c")
        + "</div>"
    )
    page.goto(host_page(page, margin, tags, path="/host/multi", lang="de"))
    widgets = page.locator(".margin-comments")
    expect(widgets).to_have_count(3)
    expect(widgets.nth(0).locator(".m-count")).to_have_text("1 Kommentar")
    expect(widgets.nth(0).locator(".m-c")).to_contain_text("On article A")
    expect(widgets.nth(0).get_by_role("heading", name="Antwort schreiben")).to_be_visible()
    expect(widgets.nth(1).locator(".m-count")).to_have_text("1 commentaire")
    expect(widgets.nth(1).locator(".m-c")).to_contain_text("On article B")
    expect(widgets.nth(1).get_by_text("Ne sera pas publié.")).to_be_visible()
    expect(widgets.nth(2).locator(".m-count")).to_have_text("0 comments")
    # the host's hostile CSS (button { display: none }) does not reach inside
    expect(widgets.nth(2).get_by_role("button", name="Post Comment")).to_be_visible()
    # and the widget's CSS does not leak out
    colour = page.evaluate("getComputedStyle(document.querySelector('p')).color")
    assert colour == "rgb(255, 0, 0)"
    # the embed script is loaded once however many tags there are
    scripts = page.evaluate(
        "performance.getEntriesByType('resource').map(e => e.name)"
        ".filter(n => n.includes('/static/embed.') && n.endsWith('.js'))"
    )
    assert len(scripts) == 1


WIKIPEDIA_PASTE = (
    "The piece says the 1918 flu spread mostly through the ports, but the rail lines mattered as"
    " much. [Wikipedia's overview](https://en.wikipedia.org/wiki/Spanish_flu) has the timeline"
    " and cites the original studies; worth adding to the article."
)


@pytest.mark.parametrize(
    "policy",
    [{}, {"mode": "publish", "spam_hold_threshold": 0.0, "spam_threshold": 0.0}],
    ids=["default-policy", "filter-says-spam"],
)
def test_a_pasted_comment_citing_wikipedia_is_held_never_called_spam(
    page: Page, margin: Margin, policy: dict[str, object]
) -> None:
    """Issue 20: a reader pastes a comment with a Wikipedia link and posts it at once (well
    under the 3 s the form timing rule looks for) on a site with the shipped defaults; the
    widget says it is held for review, in plain words, once, and never says spam. The second
    site's filter calls everything spam: the guarantee is the rule's, not the model's."""
    slug = f"honest{uuid.uuid4().hex[:6]}"
    make_site(margin.db, slug, origins=[margin.base, margin.publisher.base], policy=dict(policy))
    page.goto(host_page(page, margin, widget_tag(slug), path=f"/host/{slug}"))
    w = page.locator(".margin-comments")
    body = unique(WIKIPEDIA_PASTE)
    fill_form(w, name="Petra Paste", email=f"petra-{slug}@example.org", body=body)
    w.get_by_role("button", name="Post Comment").click()
    said = outcome(w)
    expect(said).to_contain_text("held for review")
    text = said.inner_text()
    assert "spam" not in text.lower(), text
    assert text.lower().count("held for review") == 1, text
    mine = w.locator(".m-own-list .m-c")
    expect(mine.locator(".m-badge")).to_have_text("Awaiting moderation")
    assert "spam" not in mine.inner_text().lower()
    page.reload()  # the author's own view after a reload says the same
    expect(w.locator(".m-own-list .m-c .m-badge")).to_have_text("Awaiting moderation")
    assert "spam" not in w.locator(".m-own-list").inner_text().lower()
