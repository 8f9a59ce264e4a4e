"""The transparency page: at /sites/{site}/transparency, linked from the no-JavaScript thread
page and the demo, with readable dates and no months before the site existed."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from service.db import Database
from service.sites.service import create_site
from tests.conftest import ORIGIN, FrozenClock
from tests.factories import post_comment


def test_short_path_readable_months_since_the_site_began(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    with db.write() as session:
        create_site(
            session,
            slug="news",
            name="News",
            origins=[ORIGIN],
            now=clock.now - timedelta(days=40),  # October 2026
            policy={"mode": "publish", "require_form_token": False},
        )
    assert post_comment(client).status_code == 201
    page = client.get("/sites/news/transparency")
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert "script" not in page.headers["content-security-policy"]
    text = page.text
    assert "November 2026" in text and "October 2026" in text
    assert "September 2026" not in text and "December 2025" not in text  # before the site
    assert "2026-11" not in text  # no raw month labels
    assert "28 November 2026, 12:00 UTC" in text  # when it was generated, readable
    report = client.get("/api/v1/sites/news/transparency").json()
    assert [m["month"] for m in report["months"]] == ["2026-10", "2026-11"]
    assert client.get("/sites/nope/transparency").status_code == 404


def test_no_js_page_links_back_to_the_article_and_to_the_report(
    client: TestClient, db: Database
) -> None:
    with db.write() as session:
        create_site(
            session,
            slug="news",
            name="News",
            origins=["http://staging.example.org", ORIGIN],
            now=client.app.state.margin.clock(),  # type: ignore[attr-defined]
            policy={"mode": "publish", "require_form_token": False},
        )
    assert post_comment(client, thread="/2020/12/18/zoom-data").status_code == 201
    assert (
        post_comment(
            client,
            thread="/other",
            thread_url="https://news.example.org/articles/other?ref=1",
            body="On the other article.",
        ).status_code
        == 201
    )
    page = client.get("/sites/news/threads", params={"thread": "/2020/12/18/zoom-data"}).text
    # No URL was stored: the key (the article's path) on the site's https origin.
    assert '<a href="https://news.example.org/2020/12/18/zoom-data">Back to the article</a>' in page
    assert 'href="/sites/news/transparency"' in page
    other = client.get("/sites/news/threads", params={"thread": "/other"}).text
    assert 'href="https://news.example.org/articles/other?ref=1">Back to the article' in other
    assert client.get("/demo").text.count('href="/sites/demo/transparency"') == 1
