"""Markdown in, sanitised HTML out, once at write time.

markdown-it-py renders with raw HTML off; nh3 (ammonia) then keeps only an allowlist. Nothing
transforms the HTML after the sanitiser, so no later step can reopen what it closed.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "p",
    "br",
    "em",
    "strong",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "del",
    "hr",
}
# "*" is given, and empty, on purpose: without it nh3 (ammonia) keeps its generic attributes,
# ``lang`` and ``title``, on every tag, so ``[a](https://x "any text")`` published a title
# tooltip. A link carries its href and the rel set below, nothing else.
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {"*": set(), "a": {"href"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow ugc noopener noreferrer"

_markdown = (
    MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    .enable("strikethrough")
    .disable(["image", "heading", "lheading", "html_block", "html_inline"])
)


def _absolute_web_link(url: str) -> bool:
    # Only absolute http(s) and mailto links become links; anything relative or with another
    # scheme (after markdown-it's own normalisation) stays plain text.
    return url.lower().startswith(("http://", "https://", "mailto:"))


_markdown.validateLink = _absolute_web_link  # type: ignore[method-assign]


# Built once: nh3.clean() builds the same sanitiser from these sets on every call (10.6 us
# against 3.0 us per comment).
_sanitiser = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    url_schemes=URL_SCHEMES,
    link_rel=LINK_REL,
    strip_comments=True,
)


def render(body: str) -> str:
    return _sanitiser.clean(_markdown.render(body)).strip()
