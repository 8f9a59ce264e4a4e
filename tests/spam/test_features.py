"""What the features see: link kinds, contacts, no length or bare-link signal, and linear-time
extraction on hostile bodies."""

from __future__ import annotations

import string
import time

import pytest

from service.spam.features import FeatureExtractor, Link, find_links, registered_domain


def _keys(text: str, approved: frozenset[str] = frozenset()) -> set[str]:
    fx = FeatureExtractor()
    return set(fx.meta_keys(fx.parse(text), approved))


@pytest.mark.parametrize(
    ("chunk", "links"),
    [
        ("https://en.wikipedia.org/wiki/Carbon_tax", [Link("wikipedia.org", "reference")]),
        ("(see[docs](https://docs.python.org/3/))", [Link("python.org", "reference")]),
        ("bit.ly/3xyz", [Link("bit.ly", "shortener")]),
        ("wa.me/12135550123", [Link("wa.me", "messenger")]),
        ("t.me/recoverypro", [Link("t.me", "messenger")]),
        ("news.bbc.co.uk/story", [Link("bbc.co.uk", "reference")]),
        ("www.statcan.gc.ca/x", [Link("statcan.gc.ca", "reference")]),
        ("youtu.be/abc", [Link("youtu.be", "social")]),
        ("cheap-pills.xyz", [Link("cheap-pills.xyz", "other")]),
        ("example.org.", [Link("example.org", "other")]),
        ("e.g.", []),
        ("3.14", []),
        ("node.js", []),
        ("a." * 300, []),
    ],
)
def test_a_link_is_named_by_its_kind(chunk: str, links: list[Link]) -> None:
    assert find_links(chunk.lower()) == links


def test_registered_domain() -> None:
    assert registered_domain("www.example.org") == "example.org"
    assert registered_domain("a.b.news.bbc.co.uk") == "bbc.co.uk"
    assert registered_domain("localhost") == ""


def test_no_feature_says_long_or_has_a_link_by_itself() -> None:
    """A long argued comment has no length feature; one link is its kind and domain, never a
    link count or a "url" word."""
    argued = ("The budget figures in the second table do not add up, as the report shows. " * 30)[
        :2000
    ]
    keys = _keys(argued + " https://en.wikipedia.org/wiki/Budget")
    assert not any(k.startswith(("m:len", "m:links", "m:multiline")) for k in keys)
    assert {"m:link=reference", "m:domain=wikipedia.org"} <= keys
    fx = FeatureExtractor()
    assert "url" not in fx.parse("see https://example.org/a").tokens
    assert "m:links=2" in _keys("a.example.org b.example.net")


def test_contacts_are_named() -> None:
    keys = _keys("Contact Mr Adams on WhatsApp +1 (213) 555-0123 or telegram @trader_joe")
    assert {"m:phone", "m:handle", "m:messenger-app", "m:messenger-contact"} <= keys
    assert "m:wallet" in _keys("send to 0x" + "ab12" * 10)
    assert "m:wallet" in _keys("btc: bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq")
    assert "m:email" in _keys("write to help.desk+x@mail.example.com")
    # A ping on a Q&A site is a handle, not a messenger contact.
    pinged = _keys("@alice thanks, that fixed it")
    assert "m:handle" in pinged
    assert "m:messenger-contact" not in pinged


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("call +44 7935 454150 now", True),
        ("call 1-888-833-0109 toll free", True),
        ("(888) 833-0109", True),
        ("text 07935454150", True),
        ("x07935454150", False),  # inside a word: an id
        ("from 2012-2016 and 2017", False),
        ("1234567", False),
        ("it cost $1,000,000", False),
    ],
)
def test_phone_numbers(text: str, phone: bool) -> None:
    assert ("m:phone" in _keys(text)) == phone


def test_spelt_out_links_are_links() -> None:
    for text, domain in (
        ("marketglory . com/strategygame earn real money", "marketglory.com"),
        ("watch www.youtube. com/watch?v=abc", "youtube.com"),
        ("go to freestuff dot com now", "freestuff.com"),
    ):
        assert "m:domain=" + domain in _keys(text), text
    for text in ("I come home. Comments are nice", "the net . it is", "see the .company page"):
        assert not any(k.startswith("m:domain") for k in _keys(text)), text


def test_an_approved_domain_counts_only_as_itself() -> None:
    text = "Sources: example.org/a and example.net/b and example.com/c"
    plain = _keys(text)
    assert {"m:link=other", "m:links=3+", "m:tld=org"} <= plain
    approved = _keys(text, frozenset({"example.org", "example.net", "example.com"}))
    assert "m:link=approved" in approved
    assert not any(k.startswith(("m:link=other", "m:links", "m:tld")) for k in approved)
    assert "m:domain=example.org" in approved


def test_markup_and_invisible_characters_are_cleaned() -> None:
    fx = FeatureExtractor()
    parsed = fx.parse('Nice<br/>see <a href="https://bit.ly/x">here</a> &amp; fr\u200bee')
    assert parsed.links == [Link("bit.ly", "shortener")]
    assert "free" in parsed.tokens


_N = 10_000
HOSTILE = {
    "a.": "a." * 5000,
    "[a](": "[a](" * 2500,
    "unclosed markdown": "**_`[](<" * 1250,
    "mixed scripts": ("абв漢字عربي𝔘𝔫𝔦" * 1000)[:_N],
    "zero width": "a\u200b\u200d\ufeff" * 2500,
    "digits and spaces": "1 " * 5000,
    "digits then a letter": "1" * _N + "a",
    "no at": "a" * (_N - 2) + "@b",
    "at signs": "a@" * 5000,
    "anchors": "<a href=" * 1250,
    "tags": "<a " * 3333,
    "hyphen host": "a-" * 4998 + ".com",
    "www": "www." * 2500,
    "schemes": "http://" * 1428,
    "entities": "&#" * 5000,
    "dots and spaces": ". " * 5000,
    "dot words": "a . " * 2500,
    "phone-ish": "(1) " * 2500,
    "dashes": "1-" * 5000,
    "spelt": "x dot " * 1666 + "com",
    **{f"run of {ch!r}": ch * _N for ch in string.punctuation},
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_bodies_are_scored_in_linear_time(name: str, shipped_model) -> None:
    """10,000-character pathological bodies (runs of every punctuation character, unclosed
    Markdown, "a." * 5000 (1.7 s before), "[a](" * 2500, mixed scripts, zero-width characters)
    each cost well under a generous bound: every regular expression is linear and every
    stage reads a bounded amount of text. (The bound is far above the few tens of
    milliseconds these take, for a loaded CI machine.)"""
    body = HOSTILE[name]
    assert len(body) >= 9_000
    shipped_model.clear_caches()
    started = time.process_time()
    result = shipped_model.score(body, "a." * 500, "http://" + "a." * 500)
    result.top_features  # noqa: B018 (reasons are worked out on first use)
    assert time.process_time() - started < 1.0
    assert 0.0 <= result.probability <= 1.0
