"""Evaluation entry points and the accuracy floor of the shipped recipe."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from service.spam import evaluation
from service.spam.cli import DEFAULT_MODEL, SMS, YOUTUBE, main
from service.spam.data import DataError, read_labelled

METRIC_KEYS = {"precision", "recall", "f1", "ham_held", "accuracy", "n"}


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
    assert result["batch"]["recall"] >= 2 / 3


def test_eval_cli_reports_a_bad_model(tiny_csv: Path, tmp_path: Path) -> None:
    missing = tmp_path / "none.json"
    assert main(["spam", "eval", "--data", str(tiny_csv), "--model", str(missing)]) == 2


def test_shipped_model_in_sample_sanity(shipped_model) -> None:
    for path in [*YOUTUBE, SMS]:
        examples = read_labelled(path)
        scores = evaluation.run_batch(shipped_model, examples)
        m = evaluation.metrics(scores, [e.is_spam for e in examples], shipped_model.hold_threshold)
        assert m["f1"] > 0.9, (path.name, m)


@pytest.mark.slow
def test_leave_one_video_out_floor() -> None:
    """The shipped recipe, one video held out at a time (batch). Figures: see the report."""
    videos = {p.stem: read_labelled(p) for p in YOUTUBE}
    result = evaluation.leave_one_out(videos, [read_labelled(SMS)], online=False)
    assert result["pooled"]["batch"]["f1"] > 0.85
    for name in videos:
        assert result[name]["batch"]["f1"] > 0.8
