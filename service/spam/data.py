"""Reading labelled spam data (CSV or TSV with a text column and a label column)."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["DataError", "Example", "chronological", "chronological_order", "read_labelled"]

TEXT_COLUMNS = ("content", "text", "message", "sms", "body", "comment", "comment_text")
LABEL_COLUMNS = ("class", "label", "is_spam", "spam", "category")
AUTHOR_COLUMNS = ("author", "author_name", "name")
DATE_COLUMNS = ("date", "created_at", "created", "timestamp", "time")
SPAM_LABELS = {"spam", "1", "true", "yes"}
HAM_LABELS = {"ham", "0", "false", "no"}


class DataError(Exception):
    """A data file cannot be read as labelled spam data."""


@dataclass(frozen=True)
class Example:
    text: str
    is_spam: bool
    author: str = ""
    source: str = ""
    # When it was posted, as the file has it (ISO 8601), or "": orders the online protocol.
    # Not part of equality: the same comment is the same training example at any time.
    date: str = field(default="", compare=False)


def _pick(header: list[str], wanted: str | None, candidates: tuple[str, ...], what: str) -> int:
    lowered = [h.strip().lower() for h in header]
    if wanted is not None:
        if wanted in header:
            return header.index(wanted)
        if wanted.lower() in lowered:
            return lowered.index(wanted.lower())
        raise DataError(f"no {what} column {wanted!r}; columns are {header}")
    for name in candidates:
        if name in lowered:
            return lowered.index(name)
    raise DataError(
        f"cannot find a {what} column (tried {', '.join(candidates)}); columns are {header}"
    )


def read_labelled(
    path: Path | str,
    text_column: str | None = None,
    label_column: str | None = None,
    *,
    skip_unlabelled: bool = False,
) -> list[Example]:
    """Rows in file order. Delimiter: tab for .tsv/.txt or a header containing a tab, else comma.

    Columns are found by name (YouTube: ``CONTENT`` + ``CLASS``/``label``; SMS: ``Label`` + ``SMS``)
    unless given. Labels: spam/ham, 1/0, true/false, yes/no (case-insensitive); with
    ``skip_unlabelled`` rows with an empty label are left out (partly labelled files).

    Records are split by the CSV grammar only: a quoted field may hold line breaks of any kind
    (``\r``, ``\n``, U+2028, U+2029, U+0085), which stay part of the text. Tab-separated files
    (unquoted) are split at ``\n`` (``\r\n``) only.
    """
    path = Path(path)
    try:
        raw = path.read_bytes().decode("utf-8-sig")  # bytes: no newline translation
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read as UTF-8 text ({exc})") from None
    first = raw.split("\n", 1)[0]
    tsv = path.suffix.lower() in (".tsv", ".tab", ".txt") or "\t" in first
    if tsv:
        lines = [line.removesuffix("\r") for line in raw.split("\n")]
        reader = csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)
    else:
        # newline="": the csv module sees every character as it is and splits records only
        # where its grammar says (str.splitlines() would also split at U+2028 and friends).
        reader = csv.reader(io.StringIO(raw, newline=""))
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise DataError(f"{path}: not valid CSV ({exc})") from None
    if not rows:
        raise DataError(f"{path}: empty file")
    header = rows[0]
    if tsv and label_column is None and text_column is None and len(header) == 2:
        # The SMS collection: label<TAB>text, with or without a header line.
        if header[0].strip().lower() in SPAM_LABELS | HAM_LABELS:
            rows.insert(0, ["label", "text"])
            header = rows[0]
        text_candidates: tuple[str, ...] = (header[1].strip().lower(),)
        label_candidates: tuple[str, ...] = (header[0].strip().lower(),)
    else:
        text_candidates, label_candidates = TEXT_COLUMNS, LABEL_COLUMNS
    try:
        ti = _pick(header, text_column, text_candidates, "text")
        li = _pick(header, label_column, label_candidates, "label")
    except DataError as exc:
        raise DataError(f"{path}: {exc}") from None
    lowered = [h.strip().lower() for h in header]
    ai = next((lowered.index(c) for c in AUTHOR_COLUMNS if c in lowered), None)
    di = next((lowered.index(c) for c in DATE_COLUMNS if c in lowered), None)
    out: list[Example] = []
    for n, row in enumerate(rows[1:], start=2):
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) <= max(ti, li):
            raise DataError(f"{path}: row {n} has {len(row)} fields, expected {len(header)}")
        label = row[li].strip().lower()
        if not label and skip_unlabelled:
            continue
        if label in SPAM_LABELS:
            is_spam = True
        elif label in HAM_LABELS:
            is_spam = False
        else:
            raise DataError(f"{path}: row {n}: label {row[li]!r} is not spam/ham or 1/0")
        author = row[ai] if ai is not None and ai < len(row) else ""
        date = row[di].strip() if di is not None and di < len(row) else ""
        out.append(Example(row[ti], is_spam, author, path.name, date))
    if not out:
        raise DataError(f"{path}: no data rows")
    return out


def _instant(date: str) -> datetime | None:
    try:
        when = datetime.fromisoformat(date)
    except ValueError:
        return None
    # Dates without a zone are taken as UTC, so that they compare with those that have one.
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def chronological_order(examples: Sequence[Example]) -> list[int] | None:
    """Indexes of the examples, oldest first, if every one has an ISO 8601 date; else None.
    Equal dates keep the file's order."""
    instants = [_instant(e.date) if e.date else None for e in examples]
    if not examples or any(i is None for i in instants):
        return None
    return sorted(range(len(examples)), key=instants.__getitem__)  # type: ignore[arg-type]


def chronological(examples: Sequence[Example]) -> tuple[list[Example], bool]:
    """The examples oldest first, if every one has an ISO 8601 date, and True; else the file's
    order and False. The online (TREC) protocol replays a site's decisions in the order they
    were made: one of the YouTube files lists its comments newest first."""
    order = chronological_order(examples)
    if order is None:
        return list(examples), False
    return [examples[i] for i in order], True


def describe_file(path: Path | str, examples: list[Example]) -> dict[str, object]:
    path = Path(path)
    return {
        "file": path.name,
        "dataset": path.parent.name,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "rows": len(examples),
        "spam": sum(e.is_spam for e in examples),
    }
