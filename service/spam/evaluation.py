"""Training recipe and evaluation protocols (batch, and online as in the TREC spam track).

The protocol that matters is leave-one-domain-out (:func:`leave_one_domain_out`): a *domain*
is a kind of site (YouTube videos, SMS, X posts, Stack Exchange comments, tutorial comments,
news comments); the model is trained on every other domain and scores the one left out, in
batch (a fresh install) and online (the site's moderators teach it, decision by decision).
"""

from __future__ import annotations

import math
import multiprocessing
import random
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from service.spam.data import (
    Example,
    chronological,
    chronological_order,
    describe_file,
    read_labelled,
)
from service.spam.features import FeatureConfig, FeatureExtractor, Features
from service.spam.model import SiteModel, SpamModel, train_weights

__all__ = [
    "DEFAULT_HOLD",
    "DEFAULT_SPAM",
    "TRAINING",
    "Domain",
    "choose_thresholds",
    "fit",
    "kfold",
    "leave_one_domain_out",
    "leave_one_out",
    "metrics",
    "run_batch",
    "run_online",
]

# Operating point (also the moderation policy's defaults): hold for a moderator at
# >= DEFAULT_HOLD, treat as spam at >= DEFAULT_SPAM. Chosen for the legitimate comments first
# on leave-one-domain-out (choose_thresholds): the lowest cuts that keep ham held <= 1 % and
# ham marked spam <= 0.1 % in every domain. See README.
DEFAULT_HOLD = 0.9
DEFAULT_SPAM = 0.99
MAX_HAM_HELD = 0.01
MAX_HAM_SPAM = 0.001
GRID = tuple(i / 200 for i in range(40, 200))  # candidate cuts 0.200 .. 0.995
# Logistic regression by AdaGrad; phrase features kept >= 0 (they are evidence for spam).
TRAINING: dict[str, float] = {
    "epochs": 6,
    "learning_rate": 0.5,
    "l2": 2e-4,
    "nonneg_phrases": 1.0,
    "min_count": 2,
}
ONLINE: dict[str, float] = {
    "learning_rate": 2.0,
    "bias_rate": 0.0,
    "ham_factor": 2.0,
    "meta_factor": 0.3,
    "char_factor": 4.0,
}
WARMUP = 100
MAX_HAM_PER_SOURCE = 2000


@dataclass(frozen=True)
class Domain:
    """A kind of site: its labelled files, its weight in training, and whether its licence
    lets it train a shipped model (evaluation-only domains are only ever scored)."""

    name: str
    files: tuple[Path, ...]
    weight: float = 1.0
    may_train: bool = True
    kind: str = ""

    def sources(self) -> list[list[Example]]:
        return [read_labelled(p, skip_unlabelled=True) for p in self.files]


def metrics(
    scores: Sequence[float], labels: Sequence[bool], hold: float, spam: float = 1.0
) -> dict[str, Any]:
    """Precision/recall/F1 of "held" (score >= hold) as the spam prediction, ham held, and
    ham marked spam (score >= spam). Precision, recall and F1 are None without spam."""
    tp = fp = fn = tn = ham_spammed = 0
    for s, is_spam in zip(scores, labels, strict=True):
        if s >= hold:
            if is_spam:
                tp += 1
            else:
                fp += 1
                ham_spammed += s >= spam
        elif is_spam:
            fn += 1
        else:
            tn += 1
    hams = fp + tn
    out: dict[str, Any] = {"n": tp + fp + fn + tn, "spam": tp + fn}
    if tp + fn:
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn)
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out.update(precision=round(precision, 4), recall=round(recall, 4), f1=round(f1, 4))
    else:
        out.update(precision=None, recall=None, f1=None)
    out.update(
        ham_held=round(fp / hams, 4) if hams else 0.0,
        ham_held_count=fp,
        ham_marked_spam=round(ham_spammed / hams, 4) if hams else 0.0,
        ham_marked_spam_count=ham_spammed,
    )
    return out


_T = TypeVar("_T")
FeatureCache = MutableMapping[tuple[FeatureConfig, Example], Features]


def fit(
    sources: Sequence[Sequence[Example]],
    *,
    seed: int,
    weights: Sequence[float] | None = None,
    config: FeatureConfig | None = None,
    hold: float = DEFAULT_HOLD,
    spam: float = DEFAULT_SPAM,
    training: Mapping[str, float] | None = None,
    prune: float = 1e-3,
    cache: FeatureCache | None = None,
    max_ham: int = MAX_HAM_PER_SOURCE,
) -> SpamModel:
    """Train a model on labelled sources (deterministic for a given seed). Each source counts
    as ``weights[i]`` in total (default 1), spread evenly over its examples, and within a
    source spam and ham count equally (a source of 5 % spam teaches as much about spam as
    one of 50 %)."""
    config = config or FeatureConfig()
    params = dict(TRAINING, **(training or {}))
    cache = {} if cache is None else cache
    weights = list(weights) if weights is not None else [1.0] * len(sources)
    extractor = FeatureExtractor(config)
    examples: list[tuple[Features, bool, float]] = []
    names: dict[int, str] = {}
    raw: list[float] = []
    rng = random.Random(seed)  # noqa: S311 (seeded sampling, not security)
    for source, total in zip(sources, weights, strict=True):
        hams = [e for e in source if not e.is_spam]
        if len(hams) > max_ham:
            # A large ham source teaches no more than a sample of it (its weight is fixed),
            # and training time grows with the examples.
            keep = set(rng.sample(range(len(hams)), max_ham))
            dropped = {id(e) for i, e in enumerate(hams) if i not in keep}
            source = [e for e in source if id(e) not in dropped]
        n_spam = sum(e.is_spam for e in source)
        n_ham = len(source) - n_spam
        for ex in source:
            feats = cache.get((config, ex))
            if feats is None:
                feats = cache[config, ex] = extractor.extract(ex.text, ex.author)
            for slot, key in feats.keys.items():
                names.setdefault(slot, key)
            if n_spam and n_ham:
                share = total / 2 / (n_spam if ex.is_spam else n_ham)
            else:
                share = total / len(source)
            examples.append((feats, ex.is_spam, share))
            raw.append(share)
    mean = sum(raw) / len(raw)
    # A feature seen in a single training example (mostly word pairs) teaches nothing that
    # generalises and would only grow the file and the memory of every worker.
    seen: dict[int, int] = {}
    for feats, _, _ in examples:
        for slot in feats.values:
            seen[slot] = seen.get(slot, 0) + 1
    min_count = int(params.get("min_count", 1))
    examples = [
        (Features({s: v for s, v in f.values.items() if seen[s] >= min_count}), y, w / mean)
        for f, y, w in examples
    ]
    nonneg = (
        frozenset(s for s, k in names.items() if k.startswith(("m:phrase=", "m:promo=")))
        if params.get("nonneg_phrases")
        else frozenset()
    )
    w, bias = train_weights(
        examples,
        seed=seed,
        epochs=int(params["epochs"]),
        learning_rate=params["learning_rate"],
        l2=params["l2"],
        nonneg=nonneg,
    )
    kept = {s: v for s, v in w.items() if abs(v) >= prune}
    return SpamModel(
        config,
        kept,
        bias,
        hold,
        spam,
        {s: names[s] for s in kept},
        {"online": dict(ONLINE), "training": {"seed": seed, **params, "prune": prune}},
    )


def choose_thresholds(
    per_domain: Mapping[str, tuple[Sequence[float], Sequence[bool]]],
    max_ham_held: float = MAX_HAM_HELD,
    max_ham_spam: float = MAX_HAM_SPAM,
    grid: Sequence[float] = GRID,
) -> tuple[float, float]:
    """Legitimate comments first: the lowest hold cut that holds at most ``max_ham_held`` of
    every domain's ham, and the lowest spam cut (not below it) that marks at most
    ``max_ham_spam`` of every domain's ham as spam; the highest cut where none does."""

    def worst(cut: float) -> float:
        rates = []
        for scores, labels in per_domain.values():
            hams = [s for s, y in zip(scores, labels, strict=True) if not y]
            if hams:
                rates.append(sum(s >= cut for s in hams) / len(hams))
        return max(rates, default=0.0)

    hold = next((t for t in grid if worst(t) <= max_ham_held), grid[-1])
    spam = next((t for t in grid if t >= hold and worst(t) <= max_ham_spam), grid[-1])
    return hold, spam


def run_batch(model: SpamModel, examples: Sequence[Example]) -> list[float]:
    return [model.score(e.text, e.author, top=0).probability for e in examples]


def run_online(model: SpamModel, examples: Sequence[Example]) -> list[float]:
    """TREC protocol: score each message in the order given, then feed back its true label
    (callers put the messages in the order they were posted: :func:`_scored`)."""
    site = SiteModel(model)
    scores: list[float] = []
    for e in examples:
        scores.append(site.score(e.text, e.author, top=0).probability)
        site.learn(e.text, e.author, is_spam=e.is_spam)
    return scores


def _scored(
    model: SpamModel, examples: Sequence[Example], online: bool
) -> tuple[list[bool], list[float], list[float], str]:
    """Labels, batch and online scores, oldest first where the data is dated (else in the
    file's order), and which order that was: ``"date"`` or ``"file"``."""
    ordered, by_date = chronological(examples)
    labels = [e.is_spam for e in ordered]
    scores = run_online(model, ordered) if online else []
    return labels, run_batch(model, ordered), scores, "date" if by_date else "file"


def _summary(
    labels: Sequence[bool],
    batch: Sequence[float],
    online: Sequence[float],
    hold: float,
    spam: float,
) -> dict[str, Any]:
    out: dict[str, Any] = {"batch": metrics(batch, labels, hold, spam)}
    if online:
        out["online"] = metrics(online, labels, hold, spam)
        out[f"online_after_{WARMUP}"] = metrics(online[WARMUP:], labels[WARMUP:], hold, spam)
    return out


def report(model: SpamModel, examples: Sequence[Example], *, online: bool = True) -> Any:
    """Batch metrics, and online metrics overall and after the first WARMUP decisions."""
    labels, batch, scores, order = _scored(model, examples, online)
    result = _summary(labels, batch, scores, model.hold_threshold, model.spam_threshold)
    if online:
        result["online_order"] = order
    return result


def _in_parallel(fn: Callable[..., _T], tasks: Sequence[tuple[Any, ...]], jobs: int) -> list[_T]:
    """``[fn(*task) for task in tasks]``, in up to ``jobs`` processes (each fold is
    independent and deterministic, so the results do not depend on ``jobs``)."""
    if jobs <= 1 or len(tasks) <= 1:
        return [fn(*task) for task in tasks]
    context = multiprocessing.get_context("spawn")  # the caller may have threads
    with ProcessPoolExecutor(min(jobs, len(tasks)), mp_context=context) as pool:
        return list(pool.map(fn, *zip(*tasks, strict=True)))


_Scores = tuple[list[list[bool]], list[list[float]], list[list[float]], list[str]]


def _domain_fold(
    train: list[list[Example]],
    weights: list[float],
    tests: list[list[list[Example]]],
    seed: int,
    online: bool,
    training: Mapping[str, float] | None,
) -> list[_Scores]:
    """Fit once on ``train``; per left-out domain (its files), labels and scores per file."""
    model = fit(train, seed=seed, weights=weights, training=training)
    results = []
    for files in tests:
        out: _Scores = ([], [], [], [])
        for test in files:
            labels, batch, scores, order = _scored(model, test, online)
            out[0].append(labels)
            out[1].append(batch)
            out[2].append(scores)
            out[3].append(order)
        results.append(out)
    return results


def _domain_metrics(scored: _Scores, hold: float, spam: float, online: bool) -> dict[str, Any]:
    labels, batch, scores, orders = scored
    flat_labels = [y for f in labels for y in f]
    entry: dict[str, Any] = {
        "batch": metrics([x for f in batch for x in f], flat_labels, hold, spam)
    }
    if online:
        entry["online"] = metrics([x for f in scores for x in f], flat_labels, hold, spam)
        entry[f"online_after_{WARMUP}"] = metrics(
            [x for f in scores for x in f[WARMUP:]],
            [y for f in labels for y in f[WARMUP:]],
            hold,
            spam,
        )
        entry["online_order"] = sorted(set(orders))
    return entry


def _mean_recall(entries: Sequence[Mapping[str, Any]]) -> float | None:
    recalls = [e["batch"]["recall"] for e in entries if e["batch"]["recall"] is not None]
    return round(sum(recalls) / len(recalls), 4) if recalls else None


def leave_one_domain_out(
    domains: Sequence[Domain],
    *,
    seed: int = 1,
    online: bool = True,
    jobs: int = 1,
    training: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """Train on every domain that may train except one, score the one left out (each of its
    files as a site of its own online, oldest first where dated). Per domain: batch, online,
    and online after each file's first WARMUP decisions, at two operating points: the cuts
    :func:`choose_thresholds` picks on these batch scores (legitimate comments first; the
    best case for batch, as the cuts are chosen on the data scored) and the shipped defaults.
    Evaluation-only domains are left out of no training set: one model scores them all."""
    loaded = {d.name: d.sources() for d in domains}
    groups: dict[tuple[str, ...], list[Domain]] = {}
    for left in domains:
        train_names = tuple(d.name for d in domains if d.may_train and d is not left)
        groups.setdefault(train_names, []).append(left)
    by_name = {d.name: d for d in domains}
    tasks = []
    for train_names, lefts in groups.items():
        train = [(by_name[n], s) for n in train_names for s in loaded[n]]
        weights = [d.weight / len(loaded[d.name]) for d, _ in train]
        tests = [loaded[d.name] for d in lefts]
        tasks.append(([s for _, s in train], weights, tests, seed, online, training))
    scored: dict[str, _Scores] = {}
    for lefts, done in zip(groups.values(), _in_parallel(_domain_fold, tasks, jobs), strict=True):
        for d, fold in zip(lefts, done, strict=True):
            scored[d.name] = fold
    per_domain = {
        d.name: (
            [x for f in scored[d.name][1] for x in f],
            [y for f in scored[d.name][0] for y in f],
        )
        for d in domains
    }
    chosen = choose_thresholds(per_domain)
    result: dict[str, Any] = {}
    for label, (hold, spam) in (
        ("chosen_cuts", chosen),
        ("default_cuts", (DEFAULT_HOLD, DEFAULT_SPAM)),
    ):
        entries = {d.name: _domain_metrics(scored[d.name], hold, spam, online) for d in domains}
        for d in domains:
            entries[d.name].update(kind=d.kind, trains_others=d.may_train)
        result[label] = {
            "thresholds": {"hold": hold, "spam": spam},
            "mean_spam_recall": _mean_recall(list(entries.values())),
            **entries,
        }
    return result


def _lovo_fold(
    train_sources: list[list[Example]],
    test: Sequence[Example],
    seed: int,
    online: bool,
) -> tuple[list[bool], list[float], list[float], str]:
    model = fit(train_sources, seed=seed)
    return _scored(model, test, online)


def leave_one_out(
    held_out: Mapping[str, Sequence[Example]],
    always: Sequence[Sequence[Example]] = (),
    *,
    seed: int = 1,
    online: bool = True,
    jobs: int = 1,
    hold: float = DEFAULT_HOLD,
    spam: float = DEFAULT_SPAM,
) -> dict[str, Any]:
    """Leave-one-source-out (e.g. one YouTube video): train on the others plus ``always``;
    per source and pooled (pooled online after warm-up leaves out each source's first
    WARMUP decisions)."""
    tasks = [
        (
            [list(v) for k, v in held_out.items() if k != name] + [list(a) for a in always],
            test,
            seed,
            online,
        )
        for name, test in held_out.items()
    ]
    folds = _in_parallel(_lovo_fold, tasks, jobs)
    results: dict[str, Any] = {}
    for name, (labels, batch, scores, order) in zip(held_out, folds, strict=True):
        results[name] = _summary(labels, batch, scores, hold, spam)
        if online:
            results[name]["online_order"] = order
    labels = [y for f in folds for y in f[0]]
    results["pooled"] = {"batch": metrics([x for f in folds for x in f[1]], labels, hold, spam)}
    if online:
        results["pooled"]["online"] = metrics([x for f in folds for x in f[2]], labels, hold, spam)
        results["pooled"][f"online_after_{WARMUP}"] = metrics(
            [x for f in folds for x in f[2][WARMUP:]],
            [y for f in folds for y in f[0][WARMUP:]],
            hold,
            spam,
        )
    return results


def kfold(
    examples: Sequence[Example],
    k: int = 10,
    always: Sequence[Sequence[Example]] = (),
    *,
    seed: int = 1,
    hold: float = DEFAULT_HOLD,
    spam: float = DEFAULT_SPAM,
) -> dict[str, Any]:
    """Stratified k-fold (seeded): train on k-1 folds plus ``always``; pooled batch metrics."""
    rng = random.Random(seed)  # noqa: S311 (seeded fold assignment, not security)
    spam_idx = [i for i, e in enumerate(examples) if e.is_spam]
    ham_idx = [i for i, e in enumerate(examples) if not e.is_spam]
    rng.shuffle(spam_idx)
    rng.shuffle(ham_idx)
    fold_of = {i: n % k for n, i in enumerate(spam_idx + ham_idx)}
    dated = chronological_order(examples)
    order = dated if dated is not None else range(len(examples))
    scores = [0.0] * len(examples)
    cache: FeatureCache = {}
    for fold in range(k):
        train = [e for i, e in enumerate(examples) if fold_of[i] != fold]
        model = fit([train, *always], seed=seed, cache=cache)
        test = [i for i in order if fold_of[i] == fold]
        for i, s in zip(test, run_batch(model, [examples[i] for i in test]), strict=True):
            scores[i] = s
    return {"batch": metrics(scores, [e.is_spam for e in examples], hold, spam)}


def logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def load_sources(paths: Sequence[Path | str]) -> list[list[Example]]:
    return [read_labelled(p, skip_unlabelled=True) for p in paths]


def describe_sources(paths: Sequence[Path | str], sources: Sequence[list[Example]]) -> list[Any]:
    return [describe_file(p, s) for p, s in zip(paths, sources, strict=True)]
