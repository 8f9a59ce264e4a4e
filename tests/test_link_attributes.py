"""S-XSS-1, S-URL-1: a published link carries href and rel, nothing else (no title, no lang)."""

from __future__ import annotations

from pathlib import Path

import html5lib
import pytest
from fastapi.testclient import TestClient

from service.comments.rendering import LINK_REL, render
from service.db import Database
from service.settings import Settings
from tests.factories import make_site, post_comment


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # The learned filter marks almost any short comment with a link as spam; this is about
    # rendering, not about that filter.
    return Settings(database_url=database_url, key_file=tmp_path / "keys.json", spam_enabled=False)


def _link_attributes(fragment: str) -> list[dict[str, str]]:
    tree = html5lib.parseFragment(fragment, namespaceHTMLElements=False)
    return [dict(a.attrib) for a in tree.iter("a")]


def test_a_link_title_is_not_published(client: TestClient, db: Database) -> None:
    """S-XSS-1: Markdown's link title (``[a](url "title")``) used to survive nh3 as a title
    attribute, a tooltip any commenter could set; links now keep only href and rel."""
    make_site(db)
    created = post_comment(
        client,
        body="I read the council's minutes, and the figures in"
        ' [the report](https://example.org/r "a tooltip of my own") differ from yours.',
    )
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "approved", created.json()["reason"]
    html = created.json()["comment"]["html"]
    links = _link_attributes(html)
    assert len(links) == 1
    for attributes in links:
        assert set(attributes) == {"href", "rel"}, attributes
        assert attributes["rel"] == LINK_REL
    assert "tooltip" not in html
    page = client.get(
        "/api/v1/sites/news/comments", params={"thread": "/2020/12/18/zoom-data"}
    ).json()
    assert "title=" not in page["comments"][0]["html"]


def test_no_generic_attribute_survives_on_any_tag() -> None:
    """S-XSS-1: ammonia's generic attributes (lang, title) are off on every tag."""
    rendered = render("[x](https://a.example \"t\")\n\n> [y](https://b.example 'u')\n\n3. z")
    tree = html5lib.parseFragment(rendered, namespaceHTMLElements=False)
    for element in tree.iter():
        assert "title" not in element.attrib and "lang" not in element.attrib, rendered
    assert '<ol start="3">' in rendered
