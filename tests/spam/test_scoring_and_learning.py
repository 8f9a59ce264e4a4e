"""Scoring, explanations, and per-site learning with exact undo."""

from __future__ import annotations

import zlib

import pytest

from service.spam.features import FeatureExtractor, describe
from service.spam.model import QUANTUM, SiteModel, SpamModel

SPAMMY = "Hey guys check out my new channel and please subscribe http://my-vids.example.com"
HAMMY = "The second half of the article explains the budget better than the first."


def test_feature_hash_is_stable() -> None:
    fx = FeatureExtractor()
    assert fx.slot("w:subscribe") == zlib.crc32(b"w:subscribe") & ((1 << 20) - 1)
    feats = fx.extract("Subscribe now")
    assert "w:subscribe" in feats.keys.values()
    assert describe("w:subscribe") == 'word "subscribe"'
    assert describe("m:links=2") == "2 links"
    assert describe("m:link=shortener") == "a link through a URL shortener"


def test_fast_score_equals_explicit_dot_product(small_model: SpamModel) -> None:
    import math

    for text in (SPAMMY, HAMMY, "", "!!!", "call 0800 123 4567 now for a FREE prize!!"):
        feats = small_model.features(text, "Author 99", "https://example.tk")
        z = small_model.bias + sum(
            small_model.weights.get(s, 0.0) * v for s, v in feats.values.items()
        )
        expected = 1 / (1 + math.exp(-z))
        got = small_model.score(text, "Author 99", "https://example.tk").probability
        assert got == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_reasons_are_readable(shipped_model: SpamModel) -> None:
    result = shipped_model.score(SPAMMY)
    assert result.probability > shipped_model.hold_threshold
    assert result.verdict in ("hold", "spam")
    assert result.top_features
    assert all(weight > 0 for _, weight in result.top_features)
    assert any("subscribe" in name or "link" in name for name, _ in result.top_features)
    ok = shipped_model.score(HAMMY)
    assert ok.verdict == "ok"
    assert all(weight < 0 for _, weight in ok.top_features)


def test_learning_moves_the_score_and_undo_is_exact(small_model: SpamModel) -> None:
    site = SiteModel(small_model)
    text = "Lovely recipe, I will make it for the family this weekend"
    before = site.score(text).probability
    snapshot = (dict(site.delta), site.bias_delta)

    update = site.learn(text, is_spam=True)
    assert site.score(text).probability > before
    assert update.weights
    assert all((v / QUANTUM).is_integer() for v in update.weights.values())

    site.apply(update.negated())
    assert (site.delta, site.bias_delta) == snapshot
    assert site.score(text).probability == before

    update = site.learn(text, is_spam=False)
    assert site.score(text).probability < before


def test_undo_of_an_older_update_is_exact(small_model: SpamModel) -> None:
    site = SiteModel(small_model)
    first = site.learn(HAMMY, is_spam=True)
    after_first = dict(site.delta)
    second = site.learn(SPAMMY, is_spam=False)
    third = site.learn("buy cheap followers at http://x.example.tk", is_spam=True)
    # Reversing the middle decision leaves exactly the sum of the other two updates.
    site.apply(second.negated())
    replay = SiteModel(small_model)
    replay.apply(first)
    replay.apply(third)
    assert site.delta == replay.delta
    assert after_first  # non-trivial


def test_update_round_trips_through_json(small_model: SpamModel) -> None:
    from service.spam.model import Update

    site = SiteModel(small_model)
    update = site.learn(SPAMMY, is_spam=True)
    assert Update.from_json(update.to_json()) == update


def test_sites_are_independent(small_model: SpamModel) -> None:
    shared_delta: dict[int, float] = {}
    a = SiteModel(small_model, shared_delta)
    b = SiteModel(small_model, shared_delta)
    before = b.score(HAMMY).probability
    for _ in range(5):
        a.learn(HAMMY, is_spam=True)
    assert a.score(HAMMY).probability > before
    assert b.score(HAMMY).probability == before
    assert shared_delta == {}
    assert small_model.score(HAMMY).probability == before


def test_learning_is_deterministic(small_model: SpamModel) -> None:
    a, b = SiteModel(small_model), SiteModel(small_model)
    for text, label in ((SPAMMY, True), (HAMMY, False), (SPAMMY, True)):
        assert a.learn(text, is_spam=label) == b.learn(text, is_spam=label)
    assert a.delta == b.delta


def test_site_score_equals_explicit_dot_product_with_delta(small_model: SpamModel) -> None:
    """The fast path (per-word sums, bigram slots from per-word CRCs, delta folded in) gives
    the explicit dot product over the training-time feature vector, links and markup too."""
    import math

    site = SiteModel(small_model)
    many_links = " ".join(f"see site{i}.example.com now" for i in range(7))
    texts = (SPAMMY, HAMMY, many_links, 'Nice<br />see <a href="http://x.tk/a">here</a> &amp; ok')
    for i, text in enumerate(texts):
        site.learn(text, "Author 7", is_spam=i % 2 == 0)
    for text in (
        *texts,
        "\u00dcn\u00efc\u00f6d\u00e9 \uff26\uff55\uff4c\uff4c words, words, words",
    ):
        parsed = small_model.extractor.parse(text, "Author 7")
        feats = small_model.extractor.vector(parsed, site.approved_domains(parsed))
        z = small_model.bias + site.bias_delta
        for slot, value in feats.values.items():
            z += (small_model.weights.get(slot, 0.0) + site.delta.get(slot, 0.0)) * value
        got = site.score(text, "Author 7").probability
        assert got == pytest.approx(1 / (1 + math.exp(-z)), rel=1e-9, abs=1e-12)


def test_reasons_are_fixed_at_scoring_time(small_model: SpamModel) -> None:
    """Reasons are worked out on first use, from the weights at scoring time."""
    site = SiteModel(small_model)
    lazy = site.score(SPAMMY)
    eager = site.score(SPAMMY)
    expected = eager.top_features
    for _ in range(3):
        site.learn(SPAMMY, is_spam=lazy.verdict == "ok")
    assert lazy.top_features == expected
    assert lazy == eager
    assert small_model.score(SPAMMY, top=0).top_features == []


def test_training_keeps_nonneg_slots_at_zero_or_above() -> None:
    """A feature seen only in legitimate examples gets a negative weight, unless its slot is
    constrained (what training does for the spam and self-promotion phrases)."""
    from service.spam.features import Features
    from service.spam.model import train_weights

    ham_only, spam_only, shared = 1, 2, 3
    examples = [
        (Features({ham_only: 1.0, shared: 1.0}), False, 1.0),
        (Features({spam_only: 1.0, shared: 1.0}), True, 1.0),
    ] * 20
    free, _ = train_weights(examples, seed=1, epochs=5)
    assert free[ham_only] < 0 < free[spam_only]
    held, _ = train_weights(examples, seed=1, epochs=5, nonneg={ham_only})
    assert held[ham_only] == 0.0
    assert held[spam_only] > 0
    averaged, _ = train_weights(examples, seed=1, epochs=5, nonneg={ham_only}, average=True)
    assert averaged[ham_only] >= 0.0


def test_the_shipped_model_counts_no_phrase_as_evidence_against_spam(
    shipped_model: SpamModel,
) -> None:
    """Phrases are listed because they signal spam; a moderator never sees one given as the
    reason a comment was let through."""
    phrases = {
        slot: weight
        for slot, weight in shipped_model.weights.items()
        if shipped_model.names.get(slot, "").startswith(("m:phrase=", "m:promo="))
    }
    assert len(phrases) > 10
    assert min(phrases.values()) >= 0.0


def test_a_site_learns_spellings_so_a_misspelt_repeat_is_caught(small_model: SpamModel) -> None:
    """With the model's online.char_factor a decision also moves the words' character n-grams:
    spam that comes back misspelt (no word or word pair in common) scores higher than it does
    on a site that learns words only (char_factor 0, as for model files without it)."""
    assert small_model.meta["online"]["char_factor"] > 0
    taught = "Subscribe to Bigfootchannel for giveaways"
    misspelt = "Subscibe too Bigfut-chanel four giveawayz"
    taught_chars = {
        slot
        for tok in small_model.extractor.parse(taught).tokens
        for slot, _ in small_model.extractor.word(tok).chars
    }
    # teach against the model's belief, so that the steps are not vanishingly small
    is_spam = small_model.score(taught).probability < 0.5
    sign = 1.0 if is_spam else -1.0
    moved = {}
    for char_factor in (small_model.meta["online"]["char_factor"], 0.0):
        site = SiteModel(small_model)
        site.char_factor = char_factor
        before = site.score(misspelt).probability
        for _ in range(3):
            site.learn(taught, is_spam=is_spam)
        moved[char_factor] = sign * (site.score(misspelt).probability - before)
        assert bool(taught_chars & set(site.delta)) == bool(char_factor)
    assert moved[small_model.meta["online"]["char_factor"]] > moved[0.0] >= 0.0


@pytest.mark.parametrize(
    ("text", "money"),
    [
        ("win £1000 today", True),
        ("only $ 5", True),
        ("100 dollars", True),
        ("5usd each", True),
        ("a pound of 3 apples", False),
        ("europe 2015", False),
        ("no amount here", False),
    ],
)
def test_money_amounts(text: str, money: bool) -> None:
    fx = FeatureExtractor()
    assert ("m:money" in fx.parse(text).meta) == money


def test_a_site_remembers_the_domains_its_moderators_approved(shipped_model: SpamModel) -> None:
    """Per-site domain memory: once moderators approve comments linking to a domain, a link
    there counts as "a link to a site this site's moderators approved before" (its kind and
    top-level domain no longer count) and the score falls; binning a comment that links there
    takes the approval back. Stored in the site's learnt delta (the m:domain= slot), so it is
    persisted and replayed like every other decision (service/review/learning.py)."""
    site = SiteModel(shipped_model)
    text = "Figures from the regional survey are here: https://stats.example-survey.info/table3"
    before = site.score(text)
    assert "m:link=approved" not in site.base.extractor.meta_keys(site.base.extractor.parse(text))
    other = "Another comment, a different table: example-survey.info/t9 shows the same."
    site.learn(other, is_spam=False)
    parsed = site.base.extractor.parse(text)
    assert site.approved_domains(parsed) == frozenset({"example-survey.info"})
    after = site.score(text)
    assert after.probability < before.probability
    assert any(
        "approved before" in name or "example-survey.info" in name for name, _ in after.top_features
    )
    for _ in range(3):
        site.learn(other, is_spam=True)
    assert site.approved_domains(parsed) == frozenset()


@pytest.mark.parametrize(
    "text",
    [
        "Good point about the tax. The history is at https://en.wikipedia.org/wiki/Carbon_tax "
        "and the EFF wrote about it too: https://www.eff.org/issues",
        "I tried this and it worked: [the example](https://example.org/docs) explains the setup.",
        "The NYT piece (https://www.nytimes.com/2024/01/01/business/rates.html) says the opposite.",
        "Use `pd.read_csv(path, sep=';')` as in https://pandas.pydata.org/docs/ and "
        "https://github.com/pandas-dev/pandas/issues/1; CRAN has https://cran.r-project.org/.",
        " ".join(
            ["The council's argument rests on the 2019 survey, which asked 1,200 residents"]
            + ["about transit, housing and taxes, and the answers do not support it."] * 12
        ),
        "I have been a subscriber for years. Could you please share the bank-marketing data?",
    ],
)
def test_legitimate_comments_with_links_or_length_are_not_spam(
    shipped_model: SpamModel, text: str
) -> None:
    """Issue 20: a comment citing Wikipedia, eff.org or nytimes.com, one Markdown link to
    example.org, code with links to docs, a long argued comment, ordinary words like
    "subscribe" and "share": none is marked spam by the shipped model at its thresholds
    (the old model gave the Wikipedia and example.org ones 0.98-1.00)."""
    assert shipped_model.score(text).verdict != "spam"
    assert shipped_model.score(text).probability < shipped_model.spam_threshold


@pytest.mark.parametrize(
    "text",
    [
        "I lost $40,000 to a fake broker until Mr. James Carter helped me recover my funds. "
        "Contact him on WhatsApp +1 (213) 555-0147 or telegram @jamescarter_recovery",
        "Check out my channel and subscribe!!! http://bit.ly/free-views",
    ],
)
def test_current_scams_are_at_least_held(shipped_model: SpamModel, text: str) -> None:
    assert shipped_model.score(text).verdict in ("hold", "spam")
