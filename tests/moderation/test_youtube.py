"""Rules only (no learned filter) on the YouTube Spam Collection: sane bounds, not targets.

The figures themselves go in the report; these bounds only catch a broken pipeline
(everything approved, or everything held). The self-promotion preset was tuned on these
same videos, so its figures are in-sample.
"""

from __future__ import annotations

import pytest

from service.moderation import Action, Policy, Submission, moderate

from .helpers import facts, youtube_rows


def _rates(presets: list[str]) -> tuple[float, float]:
    policy = Policy.from_dict(
        {"mode": "publish", "require_form_token": False, "suspect_presets": presets}
    )
    caught = held = spam_n = ham_n = 0
    for author, content, is_spam in youtube_rows():
        objected = (
            moderate(Submission(content, author), facts(), policy).action is not Action.APPROVE
        )
        if is_spam:
            spam_n, caught = spam_n + 1, caught + objected
        else:
            ham_n, held = ham_n + 1, held + objected
    if not spam_n or not ham_n:
        pytest.skip("YouTube Spam Collection not available")
    return caught / spam_n, held / ham_n


def test_rules_without_presets() -> None:
    caught, held = _rates([])
    assert 0.0 <= caught <= 0.5
    assert held <= 0.05


def test_rules_with_the_self_promotion_preset() -> None:
    caught, held = _rates(["self_promotion"])
    assert caught >= 0.3
    assert held <= 0.05
