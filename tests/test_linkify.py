"""Plain URLs in a comment become links, with the same rel and the same scheme rules as
Markdown links (S-URL-1); nothing else does."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from service.comments.rendering import render
from service.db import Database
from tests.factories import make_site, post_comment

REL = 'rel="nofollow ugc noopener noreferrer"'


def link(url: str, text: str | None = None) -> str:
    return f'<a href="{url}" {REL}>{text or url}</a>'


@pytest.mark.parametrize(
    ("text", "html"),
    [
        (
            "see https://example.org/report?id=1 now",
            f"<p>see {link('https://example.org/report?id=1')} now</p>",
        ),
        ("read http://example.org.", f"<p>read {link('http://example.org')}.</p>"),
        ("(https://example.org/a)", f"<p>({link('https://example.org/a')})</p>"),
        (
            "https://en.wikipedia.org/wiki/Foo_(bar), too",
            f"<p>{link('https://en.wikipedia.org/wiki/Foo_(bar)')}, too</p>",
        ),
        ("**https://example.org**", f"<p><strong>{link('https://example.org')}</strong></p>"),
        (
            "[the report](https://example.org/r) https://example.org/s",
            f"<p>{link('https://example.org/r', 'the report')} {link('https://example.org/s')}</p>",
        ),
    ],
)
def test_plain_urls_become_links_with_rel(text: str, html: str) -> None:
    assert render(text) == html


@pytest.mark.parametrize(
    "text",
    [
        "javascript://alert(1)",
        "ftp://example.org/file",
        "data://text/html,x",
        "www.example.org",  # no scheme: stays text
        "main.py and Node.js",  # .py is a country domain: never guessed
        "mail me at ana@example.org",
        "http://",
        "http:// example.org",
        "xhttps://example.org",
        "`https://example.org` in code",
    ],
)
def test_only_written_http_urls_are_linked(text: str) -> None:
    assert "<a " not in render(text)


def test_a_url_cannot_break_out_of_its_attribute() -> None:
    """S-XSS-1: quotes and angle brackets end the URL; the rest is escaped text."""
    html = render('https://example.org/"onmouseover=alert(1) https://example.org/<b>x</b>')
    assert html == (
        f'<p>{link("https://example.org/")}"onmouseover=alert(1) '
        f"{link('https://example.org/')}&lt;b&gt;x&lt;/b&gt;</p>"
    )


def test_published_comment_links_its_urls(client: TestClient, db: Database) -> None:
    make_site(db)
    created = post_comment(client, body="Source: https://example.org/data.csv").json()
    assert created["comment"]["html"] == f"<p>Source: {link('https://example.org/data.csv')}</p>"
