"""Blocked and suspect words: obfuscation is caught, ordinary words are not (U-NORM-1)."""

from __future__ import annotations

import re

import pytest

from service.moderation import Action, moderate

from .helpers import PROFANITY, facts, open_policy, sms_ham, sub, youtube_rows

BLOCKED = open_policy(blocked_words=list(PROFANITY), suspect_words=["free iphone", "crypto*"])

ZWSP, ZWJ, ZWNJ, SHY, WJ, BOM = "\u200b", "\u200d", "\u200c", "\u00ad", "\u2060", "\ufeff"


def action(body: str, **kw: object) -> Action:
    return moderate(sub(body, **kw), facts(), BLOCKED).action


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("you are a cunt", "plain"),
        ("You CUNT", "case"),
        (f"c{ZWSP}u{ZWJ}n{ZWNJ}t", "zero-width characters"),
        (f"c{SHY}unt", "soft hyphen"),
        (f"cu{WJ}nt{BOM}", "word joiner and BOM"),
        ("\uff43\uff55\uff4e\uff54", "full-width letters"),
        ("\u0441unt", "Cyrillic es"),
        ("s\u0435x", "Cyrillic ie"),
        ("\u0455\u0435\u0445", "all Cyrillic"),
        ("p\u0435n\u0456s", "Cyrillic e and i"),
        ("\u03bd\u03b9\u03b1gr\u03b1", "Greek homoglyphs in a suspect-free word: see below"),
        ("c\u0301u\u0308n\u0327t", "combining marks"),
        ("\u0107\u00fbnt", "precomposed accents"),
        ("sh1t", "leet 1"),
        ("$hit", "leet dollar"),
        ("@ss", "leet at"),
        ("a$$", "leet dollars"),
        ("p3n15", "leet digits"),
        ("5lut", "leet 5"),
        ("sh!t", "leet bang"),
        ("f u c k", "spaced letters"),
        ("s.e.x", "dotted letters"),
        ("f_u_c_k", "underscored letters"),
        ("f-u-c-k off", "hyphenated letters"),
        ("s  e  x", "wide spacing"),
        ("fuuuuuck", "repeated letters"),
        ("assssss", "repeated trailing letters"),
        ("fucking hell", "prefix wildcard"),
        ("BITCHES", "prefix wildcard upper case"),
        ("he is an ass!", "punctuation after the word"),
        ("(cunt)", "brackets"),
        ("sex-positive", "hyphenated compound"),
        ("\U0001d41c\U0001d42e\U0001d427\U0001d42d", "mathematical bold"),
        ("\u24d2\u24e4\u24dd\u24e3", "circled letters"),
    ],
)
def test_obfuscated_blocked_words_are_rejected(body: str, why: str) -> None:
    if body.startswith("\u03bd"):  # viagra in Greek homoglyphs: check through a suspect term
        policy = open_policy(suspect_words=["viagra"])
        assert moderate(sub(body), facts(), policy).action is Action.HOLD, why
        return
    assert action(body) is Action.REJECT, why


SCUNTHORPE = [
    "Scunthorpe United won again",
    "The assassin escaped through the window",
    "A classic film with a classy cast",
    "We drove through Essex and Sussex",
    "Two cocktails at the bar, please",
    "Penistone is a market town in Yorkshire",
    "My therapist recommended it",
    "The pen is mightier than the sword",
    "I assume you will pass the assessment",
    "Shiitake mushrooms and a glass of wine",
    "Sextant, sextet and Middlesex",
    "Dickens wrote about Dickensian poverty",
    "She is a passionate bassist",
    "Hancock and Peacock met in Cockermouth",
    "The document was grape-shaped",
    "Cumbria, cumulative, circumstances",
    "The butter was spread on the scrap of bread",
    "Analyse the analysis",
    "The shitake confusion",
    "As I said, as soon as possible",
    "Pass the salt; mass transit is crowded",
    "He was embarrassed by the harassment",
    "A cockpit, a cockroach and a shuttlecock",
    "I bought a sofa at 3 for 2",
    "Rated 4 5 5 by readers",
    "Page 1 of 3, see fig. 5",
    "e.g. a b c d are letters",
    "Mr. Hitchcock's Psycho",
    "The 'Arsenal' and the 'Spurs'",
    "Wanked? No: Swanky, Wankel engine",
    "Pussycat Dolls and pussy willow",  # willow stays, pussy is literal: excluded below
]


@pytest.mark.parametrize("body", [s for s in SCUNTHORPE if "pussy " not in s])
def test_words_inside_ordinary_words_pass(body: str) -> None:
    assert action(body) is Action.APPROVE, moderate(sub(body), facts(), BLOCKED).verdicts


def test_name_and_website_are_matched_too() -> None:
    assert action("hello", author_name="Big \u0421unt") is Action.REJECT
    assert action("hello", website="https://www.free-sh1t.example/") is Action.REJECT
    verdict = moderate(sub("hello", author_name="Sh1t"), facts(), BLOCKED).verdicts[-1]
    assert verdict.reason == "The name matched a blocked word"
    assert verdict.detail == "author_name: shit"


def test_suspect_words_hold_and_phrases_need_their_spaces() -> None:
    assert action("win a FREE   iPhone today") is Action.HOLD
    assert action("freeiphone") is Action.APPROVE
    assert action("cryptocurrency tips") is Action.HOLD
    assert action("blocked beats suspect: free iphone, you twat") is Action.REJECT


def test_reason_is_plain_and_never_quotes_the_term() -> None:
    decision = moderate(sub("what the fuck"), facts(), BLOCKED)
    assert decision.reasons() == ["Matched a blocked word"]
    assert "fuck" not in decision.reasons()[0]


def test_displayed_text_is_never_changed() -> None:
    body = f"s\u0435x {ZWSP} text"
    submission = sub(body)
    moderate(submission, facts(), BLOCKED)
    assert submission.body == body


_WORD = re.compile(r"[a-z]+")
_RUNS = re.compile(r"(.)\1+")


def _literal_hit(text: str) -> bool:
    """The naive oracle: a listed word appears literally as a whole ASCII word."""
    raw = _WORD.findall(text.lower())
    words = set(raw) | {_RUNS.sub(r"\1", w) for w in raw}  # "fuuuck" is literal enough
    for term in PROFANITY:
        if term.endswith("*"):
            if any(w.startswith(term[:-1]) for w in words):
                return True
        elif term in words:
            return True
    return False


def _ham_corpus() -> list[str]:
    ham = [content for _, content, spam in youtube_rows() if not spam]
    return ham + sms_ham()


def test_no_false_positives_on_a_clean_corpus() -> None:
    """Ordinary messages (YouTube + SMS ham) are rejected only where a listed word is
    literally there: obfuscation folding must not invent matches across real words."""
    corpus = _ham_corpus()
    if len(corpus) < 300:
        pytest.skip("ham datasets not available")
    invented = [text for text in corpus if action(text) is Action.REJECT and not _literal_hit(text)]
    assert len(corpus) >= 300
    assert invented == []


def test_handwritten_sentences_pass() -> None:
    sentences = [s for s in SCUNTHORPE if "pussy " not in s]
    assert all(action(s) is Action.APPROVE for s in sentences)
