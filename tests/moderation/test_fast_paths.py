"""The fast paths of the matcher and the links check give exactly the general results."""

from __future__ import annotations

import random

from service.moderation.automaton import Automaton as _Automaton
from service.moderation.links import _first_domain, domain_in
from service.moderation.matcher import Matcher
from service.moderation.normalise import text_key

from .helpers import PROFANITY

_PIECES = [
    *"aabcdeeilnossttu",
    " ",
    " ",
    ".",
    "-",
    "_",
    "1",
    "3",
    "@",
    "$",
    "!",
    "\u0430",
    "\u200b",
]
_EXTRA_TERMS = ["free iphone", "crypto*", "e-mail", "email", "sub 4 sub", "tea*", "teat", "a", "st"]


def _text(rng: random.Random) -> str:
    return "".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 60)))


def test_word_start_filter_matches_the_automaton() -> None:
    rng = random.Random(7)
    for floating in ([], ["*tion", "*ass*"]):
        terms = [*PROFANITY, *_EXTRA_TERMS, *floating]
        labelled = [(t, rng.choice(["blocked", "suspect"])) for t in terms]
        matcher = Matcher(labelled)
        automaton = _Automaton(matcher._terms)
        for _ in range(3000):
            key = text_key(_text(rng))
            assert matcher.find_key(key) == automaton.find_key(key), key


def test_domain_lookup_matches_the_scan() -> None:
    rng = random.Random(3)
    parts = ["a", "b", "com", "example", "", "co.uk"]
    for _ in range(5000):
        host = ".".join(rng.choice(parts) for _ in range(rng.randint(1, 4)))
        domains = tuple(
            ".".join(rng.choice(parts) for _ in range(rng.randint(1, 3)))
            for _ in range(rng.randint(0, 5))
        )
        assert _first_domain(host, domains) == domain_in(host, domains)
