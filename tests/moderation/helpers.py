"""Shared builders and data loaders for the moderation core tests (no timing, no I/O
beyond reading the bundled datasets)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from service.moderation import AuthorHistory, Facts, Mode, Policy, Submission

NOW = 1_700_000_000.0
REPO = Path(__file__).resolve().parents[2]

# A small, realistic profanity list: the kind of list a site would start with.
PROFANITY = (
    "ass",
    "asshole",
    "bastard",
    "bitch*",
    "bollocks",
    "cock",
    "cunt",
    "dick",
    "fag",
    "faggot",
    "fuck*",
    "motherfucker",
    "nigger",
    "penis",
    "pussy",
    "rapist",
    "retard",
    "sex",
    "shit",
    "shits",
    "shitty",
    "bullshit",
    "slut",
    "twat",
    "wanker",
    "whore",
)


def open_policy(**overrides: object) -> Policy:
    """PUBLISH, no form token required: only the check under test can object."""
    data: dict[str, object] = {"mode": Mode.PUBLISH.value, "require_form_token": False}
    data.update(overrides)
    return Policy.from_dict(data)


def sub(body: str = "A thoughtful comment.", **kw: object) -> Submission:
    return Submission(body=body, author_name=str(kw.pop("author_name", "Reader")), **kw)  # type: ignore[arg-type]


def facts(approved: int = 0, rejected: int = 0, spam: int = 0, now: float = NOW) -> Facts:
    return Facts(now=now, history=AuthorHistory(approved, rejected, spam))


def data_dir(name: str) -> Path | None:
    """A dataset folder from the repo's datasets/ or the shared data, else None."""
    for base in (REPO / "datasets", REPO.parent / "shared" / "data", Path("/work/shared/data")):
        if (base / name).is_dir():
            return base / name
    return None


def youtube_rows() -> Iterator[tuple[str, str, bool]]:
    """(author, content, is_spam) for every row of every YouTube Spam Collection file."""
    folder = data_dir("youtube-spam-collection")
    if folder is None:
        return
    for path in sorted(folder.glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                label = row.get("CLASS", row.get("label", "0"))
                yield row["AUTHOR"], row["CONTENT"], label.strip() == "1"


def sms_ham() -> list[str]:
    folder = data_dir("sms-spam-collection")
    if folder is None:
        return []
    lines = (folder / "SMSSpamCollection.tsv").read_text(encoding="utf-8").splitlines()[1:]
    return [text for label, _, text in (line.partition("\t") for line in lines) if label == "ham"]
