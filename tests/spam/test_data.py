"""The labelled-data reader: records are split by the CSV grammar only."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.spam.cli import DATACAMP
from service.spam.data import DataError, read_labelled


@pytest.mark.parametrize("brk", ["\u2028", "\u2029", "\u0085", "\r", "\n", "\r\n", "\x0b", "\x0c"])
def test_line_breaks_inside_quoted_fields_stay_in_the_text(tmp_path: Path, brk: str) -> None:
    path = tmp_path / "data.csv"
    text = f"first line{brk}second line"
    path.write_bytes(f'text,label\r\n"{text}",spam\r\n"plain",ham\n'.encode())
    examples = read_labelled(path)
    assert [e.text for e in examples] == [text, "plain"]
    assert [e.is_spam for e in examples] == [True, False]


def test_unquoted_unicode_separators_do_not_split_records(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("text,label\nsay\u2028hi,ham\nnext\u0085one,spam\n", encoding="utf-8")
    assert [e.text for e in read_labelled(path)] == ["say\u2028hi", "next\u0085one"]


def test_tsv_splits_at_newlines_only(tmp_path: Path) -> None:
    path = tmp_path / "sms.tsv"
    path.write_text("ham\tone\u2028two\r\nspam\tthree\n", encoding="utf-8")
    assert [e.text for e in read_labelled(path)] == ["one\u2028two", "three"]


def test_unlabelled_rows_are_skipped_only_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("text,label\na,spam\nb,\nc,ham\n", encoding="utf-8")
    with pytest.raises(DataError, match="row 3"):
        read_labelled(path)
    assert [e.text for e in read_labelled(path, skip_unlabelled=True)] == ["a", "c"]


def test_a_file_that_is_not_utf8_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(b'text,label\n"caf\xe9",spam\n')
    with pytest.raises(DataError, match="UTF-8"):
        read_labelled(path)


def test_the_datacamp_set_reads_its_labelled_rows() -> None:
    examples = read_labelled(DATACAMP, skip_unlabelled=True)
    assert (sum(e.is_spam for e in examples), sum(not e.is_spam for e in examples)) == (111, 497)
