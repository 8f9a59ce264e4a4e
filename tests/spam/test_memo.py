"""The spam model's bounded caches keep their newer half when full."""

from __future__ import annotations

from service.spam.features import Memo


def test_a_full_memo_drops_its_older_half_and_keeps_computing() -> None:
    calls: list[str] = []

    def compute(key: str) -> str:
        calls.append(key)
        return key.upper()

    memo: Memo[str, str] = Memo(compute, 4)
    for key in "abcd":
        assert memo[key] == key.upper()
    assert memo["e"] == "E"  # full: a and b go, c and d stay
    assert list(memo) == ["c", "d", "e"]
    assert memo["c"] == "C" and memo["a"] == "A"
    assert calls == ["a", "b", "c", "d", "e", "a"]
    assert len(memo) <= 4
