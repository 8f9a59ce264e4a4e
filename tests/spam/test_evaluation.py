"""Evaluation entry points: metrics, the operating point chosen for legitimate comments first,
leave-one-domain-out, and the eval command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from service.spam import evaluation
from service.spam.cli import DEFAULT_MODEL, DOMAINS, SMS, YOUTUBE, main
from service.spam.data import DataError, Example, read_labelled
from service.spam.model import load_model

METRIC_KEYS = {"precision", "recall", "f1", "ham_held", "ham_marked_spam", "n"}


def test_reads_both_public_formats() -> None:
    psy = read_labelled(YOUTUBE[0])
    assert len(psy) == 350
    assert sum(e.is_spam for e in psy) == 175
    assert psy[0].author
    sms = read_labelled(SMS)
    assert len(sms) == 5574
    assert sum(e.is_spam for e in sms) == 747


def test_bad_label_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("text,label\nhello,maybe\n")
    with pytest.raises(DataError, match="not spam/ham"):
        read_labelled(path)


def test_eval_cli_on_a_tiny_csv(tiny_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["spam", "eval", "--data", str(tiny_csv), "--model", str(DEFAULT_MODEL)]) == 0
    result = json.loads(capsys.readouterr().out)
    for part in ("batch", "online", "online_after_100"):
        assert result[part].keys() >= METRIC_KEYS
    assert result["batch"]["n"] == 6


def test_eval_cli_reads_a_csv_with_line_separators_in_the_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue's bug: "row N has 1 fields, expected 2" on a valid CSV holding U+2028."""
    path = tmp_path / "held_out.csv"
    path.write_text(
        'text,label,date\n"Great post\u2028thanks",ham,2024-01-02\n'
        '"DM @recovery_pro on telegram\u2029to get your funds back",spam,2024-01-01\n',
        encoding="utf-8",
    )
    assert main(["spam", "eval", "--data", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["batch"]["n"] == 2


def test_eval_cli_reports_a_bad_model(tiny_csv: Path, tmp_path: Path) -> None:
    missing = tmp_path / "none.json"
    assert main(["spam", "eval", "--data", str(tiny_csv), "--model", str(missing)]) == 2


def test_metrics_without_spam_report_ham_only() -> None:
    m = evaluation.metrics([0.1, 0.95, 0.5], [False, False, False], 0.9, 0.99)
    assert m["f1"] is None
    assert m["ham_held"] == pytest.approx(1 / 3, abs=1e-4)
    assert m["ham_marked_spam"] == 0.0


def test_thresholds_are_chosen_for_legitimate_comments_first() -> None:
    """The lowest hold cut holding at most 1 % of every domain's ham, and the lowest spam cut
    marking at most 0.1 % of it spam: the worst domain decides."""
    easy = ([0.1] * 1000 + [0.99] * 10, [False] * 1000 + [True] * 10)
    # one ham in 100 at 0.6 and one at 0.9: holding at 0.6 would hold 2 %
    hard = ([0.2] * 98 + [0.6, 0.9] + [0.95] * 5, [False] * 100 + [True] * 5)
    hold, spam = evaluation.choose_thresholds({"easy": easy, "hard": hard})
    assert hold == pytest.approx(0.605)
    assert spam == pytest.approx(0.905)


def test_leave_one_domain_out_trains_on_the_others_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every domain is scored by a model that never saw it, evaluation-only domains never
    train, and every metric is reported per domain at the chosen and the default cuts."""
    monkeypatch.setattr(evaluation, "WARMUP", 5)
    seen: list[set[str]] = []
    real_fit = evaluation.fit

    def recording_fit(sources, **kwargs):  # type: ignore[no-untyped-def]
        seen.append({e.source for s in sources for e in s})
        return real_fit(sources, **kwargs)

    monkeypatch.setattr(evaluation, "fit", recording_fit)
    paths = {}
    for name, rows in {
        "a": [("buy cheap pills at pills.example.xyz", 1), ("nice song", 0)] * 10,
        "b": [("call 1-888-833-0109 for support", 1), ("the chart is wrong", 0)] * 10,
        "c": [("dm @trader on telegram", 1), ("thanks for the fix", 0)] * 10,
        "held": [("good point, see wikipedia.org/wiki/x", 0)] * 10,
    }.items():
        path = paths[name] = tmp_path / f"{name}.csv"
        path.write_text(
            "text,label\n" + "".join(f'"{t}",{"spam" if y else "ham"}\n' for t, y in rows)
        )
    domains = [evaluation.Domain(n, (paths[n],), may_train=n != "held", kind=n) for n in paths]
    result = evaluation.leave_one_domain_out(domains, training={"epochs": 2})
    assert sorted(map(sorted, seen)) == [
        ["a.csv", "b.csv"],
        ["a.csv", "b.csv", "c.csv"],
        ["a.csv", "c.csv"],
        ["b.csv", "c.csv"],
    ]
    for cuts in ("chosen_cuts", "default_cuts"):
        entry = result[cuts]
        assert set(entry) >= {"thresholds", "mean_spam_recall", "a", "b", "c", "held"}
        for name in paths:
            assert entry[name]["batch"].keys() >= METRIC_KEYS
            assert entry[name]["online_after_5"]["n"] == (20 if name != "held" else 10) - 5
    assert result["default_cuts"]["thresholds"] == {
        "hold": evaluation.DEFAULT_HOLD,
        "spam": evaluation.DEFAULT_SPAM,
    }


def test_the_domains_cover_articles_and_current_scams() -> None:
    """At least five domains; the licence decides which may train the shipped model."""
    names = {d.name: d for d in DOMAINS}
    assert {"youtube", "sms", "x_posts", "stack_exchange", "datacamp_tutorials"} <= set(names)
    assert not names["datacamp_tutorials"].may_train
    if "c3_news_comments" in names:
        assert not names["c3_news_comments"].may_train
    trained = {d["dataset"] for d in load_model(DEFAULT_MODEL).meta["data"]}
    assert trained == {
        "youtube-spam-collection",
        "sms-spam-collection",
        "janitr-x-scam-posts",
        "se-cardano-comments",
        "se-history-meta-comments",
    }


def test_shipped_model_in_sample_sanity(shipped_model) -> None:
    for path in [*YOUTUBE, SMS]:
        examples = read_labelled(path)
        scores = evaluation.run_batch(shipped_model, examples)
        m = evaluation.metrics(scores, [e.is_spam for e in examples], shipped_model.hold_threshold)
        assert m["f1"] > 0.85, (path.name, m)


def test_leave_one_out_reports_each_source_and_pooled(
    small_sources: list[list[Example]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(evaluation, "WARMUP", 10)
    videos = {f"v{i}": s[:60] for i, s in enumerate(small_sources[:3])}
    result = evaluation.leave_one_out(videos, [small_sources[3][:100]])
    assert result["pooled"]["batch"]["n"] == 180
    assert result["pooled"]["online_after_10"]["n"] == 150
