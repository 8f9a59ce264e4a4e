"""`margin spam train` / `margin spam eval` / `margin spam crossval`.

Mount with ``add_subcommands(subparsers)``: it adds a ``spam`` command whose sub-commands set
``func`` (called with the parsed namespace, returns an exit code).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from service.spam import evaluation
from service.spam.data import DataError, read_labelled
from service.spam.model import ModelError, dump_model, load_model

__all__ = [
    "DEFAULT_DATA",
    "DEFAULT_MODEL",
    "SMS",
    "YOUTUBE",
    "add_subcommands",
    "crossval",
    "evaluate",
    "train",
]

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MODEL = Path(__file__).resolve().parent / "base_model.json.gz"
_DATA = ROOT / "datasets"
# The shared evaluation data beside the checkout (../shared/data), when it is there.
SHARED = ROOT.parent / "shared" / "data"
YOUTUBE = [
    _DATA / "youtube-spam-collection/Youtube01-Psy.csv",
    _DATA / "youtube-spam-collection/Youtube02-KatyPerry.csv",
    _DATA / "youtube-spam-collection/Youtube03-LMFAO.csv",
    _DATA / "youtube-spam-collection/Youtube04-Eminem.csv",
    _DATA / "youtube-spam-collection/Youtube05-Shakira.csv",
]
SMS = _DATA / "sms-spam-collection/SMSSpamCollection.tsv"
X_POSTS = _DATA / "janitr-x-scam-posts/data.csv"
STACK_EXCHANGE = [
    _DATA / "se-cardano-comments/data.csv",
    _DATA / "se-history-meta-comments/data.csv",
]
DATACAMP = _DATA / (
    "datacamp-tutorial-comments/"
    "final_data_extended_labeledPhase1 - final_data_extended_labeledPhase2.csv"
)
C3 = SHARED / "c3-globe-mail-comments/data.csv"

# The domains of leave-one-domain-out and their weights in training (a domain counts as its
# weight in total, whatever its size: the YouTube videos and SMS no longer define what normal
# looks like). Evaluation-only domains (licence) are scored, never trained on.
DOMAINS = [
    evaluation.Domain("youtube", tuple(YOUTUBE), 1.0, kind="video comments, 2013-2015"),
    evaluation.Domain("sms", (SMS,), 0.5, kind="SMS"),
    evaluation.Domain("x_posts", (X_POSTS,), 1.0, kind="X posts 2026, current scam spam"),
    evaluation.Domain(
        "stack_exchange", tuple(STACK_EXCHANGE), 1.5, kind="Q&A discussion comments (ham)"
    ),
    evaluation.Domain(
        "datacamp_tutorials",
        (DATACAMP,),
        may_train=False,
        kind="comments under tutorial articles (evaluation only: no licence)",
    ),
]
if C3.exists():
    DOMAINS.append(
        evaluation.Domain(
            "c3_news_comments",
            (C3,),
            may_train=False,
            kind="comments under news opinion articles (ham; evaluation only: CC BY-NC-SA)",
        )
    )
DEFAULT_DATA = [p for d in DOMAINS if d.may_train for p in d.files]


def _domain_weights(paths: Sequence[Path]) -> list[float]:
    """Each file's training weight: its domain's weight shared by the domain's files given."""
    weights = []
    for path in paths:
        domain = next((d for d in DOMAINS if path in d.files), None)
        if domain is None:
            weights.append(1.0)
        else:
            weights.append(domain.weight / sum(1 for p in paths if p in domain.files))
    return weights


def train(
    data_paths: Sequence[Path | str] = DEFAULT_DATA,
    out_path: Path | str = DEFAULT_MODEL,
    seed: int = 1,
) -> dict[str, Any]:
    """Train the base model on all the given files and write it; returns its training metrics.

    Same data and seed -> byte-identical file. Training-set metrics are recorded in the file
    beside the data description; held-out figures come from `crossval` (see the report).
    """
    paths = [Path(p).resolve() for p in data_paths]
    sources = evaluation.load_sources(paths)
    model = evaluation.fit(sources, seed=seed, weights=_domain_weights(paths))
    per_file = {
        f"{p.parent.name}/{p.name}": evaluation.metrics(
            evaluation.run_batch(model, s),
            [e.is_spam for e in s],
            model.hold_threshold,
            model.spam_threshold,
        )
        for p, s in zip(paths, sources, strict=True)
    }
    model.meta["data"] = evaluation.describe_sources(paths, sources)
    model.meta["metrics"] = {"training_set": per_file, "held_out": "see margin spam crossval"}
    dump_model(model, out_path)
    return per_file


def evaluate(
    data_path: Path | str,
    model_path: Path | str = DEFAULT_MODEL,
    text_column: str | None = None,
    label_column: str | None = None,
    *,
    online: bool = True,
    skip_unlabelled: bool = False,
) -> dict[str, Any]:
    """Batch and online (TREC protocol) metrics of a model on one labelled file."""
    model = load_model(model_path)
    examples = read_labelled(data_path, text_column, label_column, skip_unlabelled=skip_unlabelled)
    result: dict[str, Any] = {
        "data": str(data_path),
        "model": str(model_path),
        "thresholds": {"hold": model.hold_threshold, "spam": model.spam_threshold},
    }
    result.update(evaluation.report(model, examples, online=online))
    return result


def crossval(seed: int = 1, online: bool = True, jobs: int = 1) -> dict[str, Any]:
    """Leave-one-domain-out over :data:`DOMAINS` (at the cuts it chooses for the legitimate
    comments first, and at the shipped defaults), and the baseline table's five-video
    leave-one-video-out with the other training domains always in training."""
    lodo = evaluation.leave_one_domain_out(DOMAINS, seed=seed, online=online, jobs=jobs)
    videos = {p.stem: read_labelled(p) for p in YOUTUBE}
    others = [
        read_labelled(p, skip_unlabelled=True)
        for d in DOMAINS
        if d.may_train and d.name != "youtube"
        for p in d.files
    ]
    return {
        "leave_one_domain_out": lodo,
        "lovo_five_youtube_only": evaluation.leave_one_out(videos, online=online, jobs=jobs),
        "lovo_five_with_other_domains": evaluation.leave_one_out(
            videos, others, online=online, jobs=jobs
        ),
    }


def _print(result: Any) -> None:
    sys.stdout.write(json.dumps(result, indent=2) + "\n")


def _cmd_train(args: argparse.Namespace) -> int:
    try:
        result = train(args.data or DEFAULT_DATA, args.out, args.seed)
    except DataError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    _print({"model": str(args.out), "training_set": result})
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    try:
        result = evaluate(
            args.data,
            args.model,
            args.text_column,
            args.label_column,
            online=not args.no_online,
            skip_unlabelled=args.skip_unlabelled,
        )
    except (DataError, ModelError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    _print(result)
    return 0


def _cmd_crossval(args: argparse.Namespace) -> int:
    result = crossval(args.seed, online=not args.no_online, jobs=args.jobs)
    if args.out:
        args.out.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    _print(result)
    return 0


def add_subcommands(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``spam {train,eval,crossval}`` to an argparse sub-parsers object."""
    spam: argparse.ArgumentParser = subparsers.add_parser(
        "spam", help="train and evaluate the spam model"
    )
    sub = spam.add_subparsers(dest="spam_command", required=True)

    p = sub.add_parser("train", help="train the base model from labelled CSV/TSV files")
    p.add_argument("--data", action="append", type=Path, help="data file (repeatable)")
    p.add_argument("--out", type=Path, default=DEFAULT_MODEL, help="model file to write")
    p.add_argument("--seed", type=int, default=1)
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("eval", help="batch and online metrics of a model on a labelled file")
    p.add_argument("--data", type=Path, required=True, help="CSV or TSV with text and label")
    p.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    p.add_argument("--text-column", default=None, help="default: autodetect")
    p.add_argument("--label-column", default=None, help="default: autodetect")
    p.add_argument("--no-online", action="store_true", help="skip the online (feedback) run")
    p.add_argument(
        "--skip-unlabelled", action="store_true", help="leave out rows with an empty label"
    )
    p.set_defaults(func=_cmd_eval)

    p = sub.add_parser("crossval", help="leave-one-domain-out and five-video LOVO (slow, minutes)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--no-online", action="store_true")
    p.add_argument("--jobs", type=int, default=1, help="processes for the folds (default 1)")
    p.add_argument("--out", type=Path, default=None, help="also write the results here")
    p.set_defaults(func=_cmd_crossval)
    return spam


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="margin")
    add_subcommands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
