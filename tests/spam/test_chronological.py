"""The online (TREC) protocol replays a site's decisions in the order the comments were posted."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from service.spam import evaluation
from service.spam.cli import SMS, YOUTUBE, main
from service.spam.data import Example, chronological, chronological_order, read_labelled
from service.spam.model import SpamModel


def _dated(text: str, date: str, is_spam: bool = False) -> Example:
    return Example(text, is_spam, "someone", "test.csv", date)


def test_youtube_dates_are_read_and_a_newest_first_file_is_replayed_oldest_first() -> None:
    psy, _, lmfao = (read_labelled(p) for p in YOUTUBE[:3])
    assert all(e.date for e in lmfao)
    assert lmfao[0].date > lmfao[-1].date  # this file lists its comments newest first
    ordered, by_date = chronological(lmfao)
    assert by_date
    assert ordered == lmfao[::-1]
    assert [e.date for e in ordered] == sorted(e.date for e in lmfao)
    assert chronological(psy) == (psy, True)  # already oldest first: unchanged


def test_undated_or_unreadable_dates_keep_the_files_order() -> None:
    sms = read_labelled(SMS)[:50]
    assert chronological(sms) == (sms, False)
    rows = [_dated("b", "2024-01-02"), _dated("a", "yesterday"), _dated("c", "2024-01-01")]
    assert chronological(rows) == (rows, False)
    assert chronological_order([]) is None


def test_zones_are_compared_as_instants_and_ties_keep_the_files_order() -> None:
    rows = [
        _dated("utc nine", "2024-01-01T09:00:00"),  # no zone: taken as UTC
        _dated("eight utc", "2024-01-01T10:00:00+02:00"),
        _dated("tie, first in the file", "2024-01-01T09:00:00Z"),
    ]
    ordered, by_date = chronological(rows)
    assert by_date
    assert [e.text for e in ordered] == ["eight utc", "utc nine", "tie, first in the file"]


def _recording(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    calls: list[list[str]] = []
    run_online = evaluation.run_online

    def record(model: SpamModel, examples: Sequence[Example]) -> list[float]:
        calls.append([e.date for e in examples])
        return run_online(model, examples)

    monkeypatch.setattr(evaluation, "run_online", record)
    return calls


def test_eval_replays_a_dated_file_oldest_first(
    tmp_path: Path, small_model: SpamModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "newest_first.csv"
    lines = ["COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS"]
    for i in range(6):
        text, label = ("check out my channel and subscribe", 1) if i % 2 else ("lovely song", 0)
        lines.append(f"id{i},author{i},2024-01-{9 - i:02d}T12:00:00,{text} {i},{label}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    calls = _recording(monkeypatch)
    result = evaluation.report(small_model, read_labelled(path))
    assert result["online_order"] == "date"
    assert calls == [[f"2024-01-{d:02d}T12:00:00" for d in range(4, 10)]]
    # and the metrics are those of that order
    ordered, _ = chronological(read_labelled(path))
    scores = evaluation.run_online(small_model, ordered)
    labels = [e.is_spam for e in ordered]
    assert result["online"] == evaluation.metrics(
        scores, labels, small_model.hold_threshold, small_model.spam_threshold
    )


def test_eval_cli_says_which_order_it_replayed(
    tiny_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["spam", "eval", "--data", str(tiny_csv)]) == 0
    assert '"online_order": "date"' in capsys.readouterr().out
