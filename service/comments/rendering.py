"""Markdown in, sanitised HTML out, once at write time.

markdown-it-py renders with raw HTML off; nh3 (ammonia) then keeps only an allowlist. Nothing
transforms the HTML after the sanitiser, so no later step can reopen what it closed.

Caps (issue 19): markdown-it-py is pure Python and some inputs cost it far more than their
length: every "[" scans ahead for its "]" ("[" * 10000 took 0.7 s), an unclosed "[a](" scans
its destination to the next space from every "[" ("[a](" * 2500: 0.4 s), emphasis pairing
grows faster than the delimiters, and every punctuation character or line costs a turn of
every rule (10,000 "}" or 5,000 lines: 0.1-0.3 s). A body past any cap below (brackets,
emphasis delimiters, punctuation, lines, link destinations scanned) is shown as plain text
instead: escaped, paragraphs and line breaks kept, no Markdown. That is linear and cheap,
and the text stays readable; only its formatting is lost. Ordinary comments, even of
10,000 characters, stay far below every cap.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline

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

# Plain URLs in the text ("see https://example.org/report") become links, through the same
# validateLink and nh3 rel="nofollow ugc noopener noreferrer" as [text](url) links. Only URLs
# written with http:// or https://: "main.py" or "Node.js" stay text (.py is a country domain),
# and so do bare email addresses. Our own small rule in markdown-it's "linkify" slot, not
# linkify-it: that library's expressions made a comment of 10,000 characters take 8 ms even
# without a link, and 20 links cost 10 ms, against 0.3 ms; this rule runs only where the
# text has "://" and reads each link once.
_SCHEME = re.compile(r"(?:^|[^a-z0-9.+-])(https?)$", re.IGNORECASE)
_AFTER_SCHEME = re.compile(r"//[^\s<>\"'`\\/?#*_~][^\s<>\"'`\\]*")
_TRAILING = ".,:;!?'*_~"


def _url_end(tail: str) -> str:
    """Drop trailing punctuation that ends the sentence, not the URL; keep a ")" only when it
    closes a "(" inside the URL (as in Wikipedia's "Foo_(bar)")."""
    while tail:
        last = tail[-1]
        if last in _TRAILING or (last == ")" and tail.count("(") < tail.count(")")):
            tail = tail[:-1]
        else:
            break
    return tail


def _plain_url(state: StateInline, silent: bool) -> bool:
    pos = state.pos
    if state.linkLevel > 0 or not state.src.startswith("://", pos):
        return False
    scheme = _SCHEME.search(state.pending)
    if scheme is None:
        return False
    found = _AFTER_SCHEME.match(state.src, pos + 1, state.posMax)
    tail = _url_end(found.group()) if found else ""
    if len(tail) < 3:
        return False
    proto = scheme.group(1)
    url = f"{proto}:{tail}"
    full_url = state.md.normalizeLink(url)
    if not state.md.validateLink(full_url):
        return False
    if not silent:
        state.pending = state.pending[: -len(proto)]
        token = state.push("link_open", "a", 1)
        token.attrs = {"href": full_url}
        token.markup = "linkify"
        token.info = "auto"
        token = state.push("text", "", 0)
        token.content = state.md.normalizeLinkText(url)
        token = state.push("link_close", "a", -1)
        token.markup = "linkify"
        token.info = "auto"
    state.pos += 1 + len(tail)
    return True


_markdown.inline.ruler.at("linkify", _plain_url)
_markdown.inline.ruler.enable("linkify")


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


# Caps, from measurements (bench/hostile.py): past them markdown-it-py costs more than an
# ordinary 10,000-character comment. At most this many "[" (each may open a link label that
# is scanned to its end, and a "[x](" destination scanned to the next space) ...
MAX_BRACKETS = 100
# ... this many emphasis delimiters (their pairing grows faster than their count) ...
MAX_EMPHASIS = 200
_EMPHASIS = "*_~"
# ... this many characters that stop markdown-it's plain-text scan (each one costs a turn
# of every inline rule: its own terminator list, less the newline) ...
MAX_MARKUP = 1500
_MARKUP = ":={\\!%#`<*}]+-@&~^_$[>"
# ... this many lines (each line of a paragraph asks every block rule, a list item more) ...
MAX_LINES = 200
# ... and this many characters of link destinations scanned, counted as each "](" times the
# longest run without whitespace (a destination is scanned to the next space, character by
# character: 100 "[a](" before 9,600 letters without a space cost 0.3 s).
MAX_DESTINATION_SCAN = 20_000


@dataclass(frozen=True, slots=True)
class Rendered:
    """A body's HTML and whether a cap sent it through the plain-text path."""

    html: str
    plain: bool


def over_caps(body: str) -> bool:
    """True when ``body`` has more Markdown-active characters or lines than the caps allow.
    A few C-speed counts: 10,000 characters cost microseconds."""
    if body.count("[") > MAX_BRACKETS or body.count("\n") >= MAX_LINES:
        return True
    if sum(body.count(ch) for ch in _EMPHASIS) > MAX_EMPHASIS:
        return True
    if sum(body.count(ch) for ch in _MARKUP) > MAX_MARKUP:
        return True
    openers = body.count("](")
    return bool(openers) and openers * max(map(len, body.split()), default=0) > (
        MAX_DESTINATION_SCAN
    )


def plain_html(body: str) -> str:
    """``body`` as escaped text: blank lines separate paragraphs, other newlines break
    lines. No Markdown at all, so its cost is a few string operations."""
    paragraphs = [p.strip() for p in body.replace("\r\n", "\n").split("\n\n")]
    return "\n".join(
        "<p>" + html.escape(p, quote=False).replace("\n", "<br>\n") + "</p>"
        for p in paragraphs
        if p
    )


def plain_text(body: str) -> str:
    """The sanitised HTML of ``body`` shown as plain text (``plain_html``)."""
    return _sanitiser.clean(plain_html(body)).strip()


def render_bounded(body: str) -> Rendered:
    """The HTML of ``body``: Markdown when within the caps, plain text otherwise."""
    if over_caps(body):
        return Rendered(plain_text(body), plain=True)
    return Rendered(_sanitiser.clean(_markdown.render(body)).strip(), plain=False)


def render(body: str) -> str:
    return render_bounded(body).html
