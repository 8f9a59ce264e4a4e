"""Training recipe and evaluation protocols (batch, and online as in the TREC spam track)."""

from __future__ import annotations

import math
import multiprocessing
import random
from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence
from concurrent.futures import ProcessPoolExecutor
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
    "MAX_HAM_HELD",
    "TRAINING",
    "choose_threshold",
    "fit",
    "kfold",
    "leave_one_out",
    "metrics",
    "run_batch",
    "run_online",
    "select_operating_point",
]

# Operating point: hold for moderation at >= DEFAULT_HOLD, treat as spam at >= DEFAULT_SPAM
# (also the moderation policy's defaults). Chosen on leave-one-video-out: hold keeps batch ham
# held near 1.5 % and online ham held under 1 % after 100 decisions; spam is for near-certain
# cases only. Optionally (``fit(select=True)``, ``crossval --nested``) the cut is chosen by
# nested validation on the model's own training data (select_operating_point): the cut that
# maximises F1 with at most MAX_HAM_HELD of legitimate comments held on the inner folds; the
# bias is then shifted so that the cut lands at DEFAULT_HOLD. Not the default: see README.
DEFAULT_HOLD = 0.8
DEFAULT_SPAM = 0.97
MAX_HAM_HELD = 0.015
HOLD_GRID = tuple(i / 100 for i in range(30, 97))  # candidate cuts 0.30 .. 0.96
# Training hyper-parameters (logistic regression, AdaGrad; optional: "bags", the mean of that
# many runs with different shuffles, and "average", averaged SGD) and per-site learning rates.
# "nb_mix" / "nb_alpha": each feature's value is scaled by nb_mix * |r| + 1 - nb_mix, where r is
# its naive-Bayes log-count ratio on the training data (smoothing nb_alpha); "domain_copy":
# every feature also has a copy per medium (SMS, comments) with this value, so that what only
# holds for one medium can go into its copy (see _transform). Both 0: the plain recipe.
TRAINING: dict[str, float] = {
    "epochs": 10,
    "learning_rate": 0.5,
    "l2": 5e-4,
    "nb_alpha": 0.1,
    "nb_mix": 0.5,
    "domain_copy": 0.5,
    "nonneg_phrases": 1.0,
}
ONLINE: dict[str, float] = {
    "learning_rate": 2.0,
    "bias_rate": 0.0,
    "ham_factor": 2.0,
    "meta_factor": 0.15,
    "char_factor": 4.0,
}
# SMS is another medium: it teaches spam vocabulary but its ham (short chat) is unlike comments.
SMS_SCALE = 0.3
WARMUP = 100


def metrics(
    scores: Sequence[float], labels: Sequence[bool], hold: float, spam: float = 1.0
) -> dict[str, Any]:
    """Precision/recall/F1 of "held" (score >= hold) as the spam prediction, and ham held."""
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
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    hams = fp + tn
    return {
        "n": tp + fp + fn + tn,
        "spam": tp + fn,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "ham_held": round(fp / hams, 4) if hams else 0.0,
        "ham_held_count": fp,
        "ham_marked_spam": round(ham_spammed / hams, 4) if hams else 0.0,
        "accuracy": round((tp + tn) / (tp + fp + fn + tn), 4) if tp + fp + fn + tn else 0.0,
    }


def _weights_for(
    sources: Sequence[Sequence[Example]], scale: Sequence[float] | None = None
) -> list[float]:
    """Each source file counts equally in training (a small video weighs as much as the
    whole SMS collection) times its ``scale``, normalised so the mean example weight is 1."""
    scale = scale or [1.0] * len(sources)
    raw = [f / len(s) for s, f in zip(sources, scale, strict=True) for _ in s]
    mean = sum(raw) / len(raw)
    return [w / mean for w in raw]


def source_scale(sources: Sequence[Sequence[Example]]) -> list[float]:
    """Comment sources count fully; SMS (another medium) counts SMS_SCALE."""
    return [SMS_SCALE if _is_sms(s) else 1.0 for s in sources]


_T = TypeVar("_T")
FeatureCache = MutableMapping[tuple[FeatureConfig, Example], Features]


def fit(
    sources: Sequence[Sequence[Example]],
    *,
    seed: int,
    config: FeatureConfig | None = None,
    hold: float = DEFAULT_HOLD,
    spam: float = DEFAULT_SPAM,
    training: Mapping[str, float] | None = None,
    prune: float = 1e-4,
    select: bool = False,
    cache: FeatureCache | None = None,
    medium: str = "comments",
) -> SpamModel:
    """Train a model on several labelled sources (deterministic for a given seed).

    ``medium`` ("comments" or "sms") is what the model will score: with the training
    option ``domain_copy`` its weights are the shared ones plus that medium's copy.

    With ``select`` (and at least two comment sources), the cut is chosen by nested
    validation on these sources only (:func:`select_operating_point`) and the bias shifted so
    that it lands at ``hold``. ``cache`` keeps extracted features between fits.
    """
    config = config or FeatureConfig()
    params = dict(TRAINING, **(training or {}))
    cache = {} if cache is None else cache
    model = _fit(sources, seed, config, hold, spam, params, prune, cache, medium)
    if select:
        point = select_operating_point(
            sources, seed=seed, config=config, training=params, prune=prune, cache=cache
        )
        if point is not None:
            model.bias += _logit(hold) - _logit(point["threshold"])
            model.meta["operating_point"] = point
    return model


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def _fit(
    sources: Sequence[Sequence[Example]],
    seed: int,
    config: FeatureConfig,
    hold: float,
    spam: float,
    params: Mapping[str, float],
    prune: float,
    cache: FeatureCache,
    medium: str = "comments",
) -> SpamModel:
    extractor: FeatureExtractor | None = None
    weights = _weights_for(sources, source_scale(sources))
    spam_weight = params.get("spam_weight", 1.0)
    examples: list[tuple[Features, bool, float]] = []
    names: dict[int, str] = {}
    sms: list[bool] = []
    i = 0
    for source in sources:
        is_sms = _is_sms(source)
        for ex in source:
            feats = cache.get((config, ex))
            if feats is None:
                extractor = extractor or FeatureExtractor(config)
                feats = cache[config, ex] = extractor.extract(ex.text, ex.author)
            for slot, key in feats.keys.items():
                names.setdefault(slot, key)
            examples.append((feats, ex.is_spam, weights[i] * (spam_weight if ex.is_spam else 1.0)))
            sms.append(is_sms)
            i += 1
    factor = _nb_factors(examples, params.get("nb_alpha", 0.1), params.get("nb_mix", 0.0))
    copy = params.get("domain_copy", 0.0)
    if factor is not None or copy:
        examples = _transform(examples, sms, factor, copy, config.bits)
    nonneg = _nonneg_slots(names, config.bits) if params.get("nonneg_phrases") else frozenset()
    # Bagging over shuffles: the mean of the weights of ``bags`` runs with seeds seed,
    # seed + 1, ... (one linear model again, so scoring costs the same).
    bags = int(params.get("bags", 1))
    w: dict[int, float] = {}
    bias = 0.0
    for run in range(bags):
        run_w, run_bias = train_weights(
            examples,
            seed=seed + run,
            epochs=int(params["epochs"]),
            learning_rate=params["learning_rate"],
            l2=params["l2"],
            average=bool(params.get("average", 0.0)),
            nonneg=nonneg,
        )
        if bags == 1:
            w, bias = run_w, run_bias
            break
        for slot, value in run_w.items():
            w[slot] = w.get(slot, 0.0) + value / bags
        bias += run_bias / bags
    if factor is not None or copy:
        w = _collapse(w, factor, copy, config.bits, 1 if medium == "sms" else 2)
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


# Self-promotion and spam phrases are there because they are evidence for spam: where the
# training data pair one with legitimate text ("my new phone" in SMS chat), the model may not
# learn it as evidence against (only their SMS copies may go below zero).
_NONNEG_PREFIXES = ("m:phrase=", "m:promo=")


def _nonneg_slots(names: Mapping[int, str], bits: int) -> frozenset[int]:
    """The training slots held at zero or above: each phrase feature's shared slot and its
    comments copy (see _transform)."""
    plain = [slot for slot, key in names.items() if key.startswith(_NONNEG_PREFIXES)]
    return frozenset(plain) | frozenset(slot + (2 << bits) for slot in plain)


def _nb_factors(
    examples: Sequence[tuple[Features, bool, float]], alpha: float, mix: float
) -> dict[int, float] | None:
    """Per slot, ``mix * |r| + 1 - mix`` where ``r`` is the naive-Bayes log-count ratio
    ``log((p + alpha) / |p|) - log((q + alpha) / |q|)``, ``p`` / ``q`` the (sample-weighted)
    number of spam / ham examples with the feature (NB-SVM, Wang and Manning 2012; as
    magnitude, so the sign stays learnt). Computed on the training examples only; None when
    ``mix`` is 0."""
    if not mix:
        return None
    p: dict[int, float] = {}
    q: dict[int, float] = {}
    for feats, is_spam, sw in examples:
        counts = p if is_spam else q
        for slot in feats.values:
            counts[slot] = counts.get(slot, 0.0) + sw
    slots = sorted({**p, **q})
    p_total = sum(p.values()) + alpha * len(slots)
    q_total = sum(q.values()) + alpha * len(slots)
    return {
        slot: mix
        * abs(
            math.log((p.get(slot, 0.0) + alpha) / p_total)
            - math.log((q.get(slot, 0.0) + alpha) / q_total)
        )
        + (1.0 - mix)
        for slot in slots
    }


def _transform(
    examples: Sequence[tuple[Features, bool, float]],
    sms: Sequence[bool],
    factor: Mapping[int, float] | None,
    copy: float,
    bits: int,
) -> list[tuple[Features, bool, float]]:
    """The training vectors: values times ``factor`` and, with ``copy``, each feature again in
    its medium's own slot range (SMS: slot + 2**bits, comments: slot + 2 * 2**bits) at
    ``copy`` times the value ("frustratingly easy" domain adaptation, Daume 2007)."""
    out: list[tuple[Features, bool, float]] = []
    for (feats, label, sw), is_sms in zip(examples, sms, strict=True):
        if factor is not None:
            values = {slot: v * factor[slot] for slot, v in feats.values.items()}
        else:
            values = dict(feats.values)
        if copy:
            offset = (1 if is_sms else 2) << bits
            values.update([(slot + offset, v * copy) for slot, v in list(values.items())])
        out.append((Features(values), label, sw))
    return out


def _collapse(
    w: Mapping[int, float],
    factor: Mapping[int, float] | None,
    copy: float,
    bits: int,
    medium: int = 2,
) -> dict[int, float]:
    """Weights over the plain features for one medium (2: comments, 1: SMS): shared plus
    ``copy`` times that medium's copy (the other copy is dropped), times ``factor`` (so
    scoring is unchanged)."""
    size = 1 << bits
    out: dict[int, float] = {}
    for slot, value in w.items():
        if slot < size:
            out[slot] = out.get(slot, 0.0) + value
        elif slot >> bits == medium:
            out[slot - medium * size] = out.get(slot - medium * size, 0.0) + value * copy
    if factor is not None:
        out = {slot: value * factor[slot] for slot, value in out.items()}
    return out


def _is_sms(source: Sequence[Example]) -> bool:
    return bool(source) and source[0].source.lower().startswith("sms")


def select_operating_point(
    sources: Sequence[Sequence[Example]],
    *,
    seed: int,
    config: FeatureConfig | None = None,
    training: Mapping[str, float] | None = None,
    prune: float = 1e-4,
    cache: FeatureCache | None = None,
) -> dict[str, Any] | None:
    """Nested validation inside the training data: leave one comment source (video) out at a
    time, train on the rest (SMS stays in), score the left-out source in batch, and choose
    the cut on the pooled inner scores (:func:`choose_threshold`). None with fewer than two
    comment sources. Only ``sources`` are read."""
    config = config or FeatureConfig()
    params = dict(TRAINING, **(training or {}))
    cache = {} if cache is None else cache
    comments = [i for i, source in enumerate(sources) if source and not _is_sms(source)]
    if len(comments) < 2:
        return None
    scores: list[float] = []
    labels: list[bool] = []
    for i in comments:
        rest = [source for j, source in enumerate(sources) if j != i]
        inner = _fit(rest, seed, config, DEFAULT_HOLD, DEFAULT_SPAM, params, prune, cache)
        scores += run_batch(inner, sources[i])
        labels += [e.is_spam for e in sources[i]]
    threshold = choose_threshold(scores, labels)
    return {
        "threshold": threshold,
        "max_ham_held": MAX_HAM_HELD,
        "inner_folds": [sources[i][0].source for i in comments],
        "inner_batch": metrics(scores, labels, threshold),
    }


def choose_threshold(
    scores: Sequence[float],
    labels: Sequence[bool],
    max_ham_held: float = MAX_HAM_HELD,
    grid: Sequence[float] = HOLD_GRID,
) -> float:
    """The cut in ``grid`` with the best F1 among those holding at most ``max_ham_held`` of the
    ham (ties: the higher cut); if none does, the one holding the least ham (then best F1)."""
    spam_scores = [s for s, y in zip(scores, labels, strict=True) if y]
    ham_scores = [s for s, y in zip(scores, labels, strict=True) if not y]
    best: tuple[tuple[bool, float, float], float] | None = None
    for t in grid:
        tp = sum(s >= t for s in spam_scores)
        fp = sum(s >= t for s in ham_scores)
        f1 = 2 * tp / (2 * tp + fp + len(spam_scores) - tp) if tp else 0.0
        held = fp / len(ham_scores) if ham_scores else 0.0
        ok = held <= max_ham_held
        key = (ok, f1 if ok else -held, f1)
        if best is None or key >= best[0]:
            best = (key, t)
    assert best is not None, "empty grid"
    return best[1]


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
    # spawn, not fork: the caller (a test run, a server) may have threads
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(min(jobs, len(tasks)), mp_context=context) as pool:
        return list(pool.map(fn, *zip(*tasks, strict=True)))


def _lovo_fold(
    train_sources: list[list[Example]],
    test: Sequence[Example],
    seed: int,
    online: bool,
    fit_args: dict[str, Any],
) -> tuple[list[bool], list[float], list[float], float, float, Any, str]:
    model = fit(train_sources, seed=seed, **fit_args)
    labels, batch, scores, order = _scored(model, test, online)
    point = model.meta.get("operating_point")
    return labels, batch, scores, model.hold_threshold, model.spam_threshold, point, order


def leave_one_out(
    held_out: Mapping[str, Sequence[Example]],
    always: Sequence[Sequence[Example]] = (),
    *,
    seed: int = 1,
    online: bool = True,
    jobs: int = 1,
    **fit_args: Any,
) -> dict[str, Any]:
    """Leave-one-source-out (e.g. one YouTube video): train on the others plus ``always``.

    Pooled online figures after warm-up concatenate each source's messages after its own
    first WARMUP decisions. ``jobs`` > 1 runs the folds in that many processes.
    """
    if jobs <= 1:
        fit_args.setdefault("cache", {})  # features extracted once for all folds
    tasks = [
        (
            [list(v) for k, v in held_out.items() if k != name] + [list(a) for a in always],
            test,
            seed,
            online,
            fit_args,
        )
        for name, test in held_out.items()
    ]
    return _per_source_and_pooled(held_out, _in_parallel(_lovo_fold, tasks, jobs), online)


def held_out_test(
    train_sources: Sequence[Sequence[Example]],
    tests: Mapping[str, Sequence[Example]],
    *,
    seed: int = 1,
    online: bool = True,
    jobs: int = 1,
    **fit_args: Any,
) -> dict[str, Any]:
    """Train once on ``train_sources``, then score each of ``tests`` in batch and, with
    ``online``, as a new site of its own (oldest first where dated); per test and pooled as
    :func:`leave_one_out`. ``jobs`` is accepted for symmetry: one model, scored in-process."""
    del jobs
    model = fit([list(s) for s in train_sources], seed=seed, **fit_args)
    point = model.meta.get("operating_point")
    folds = []
    for test in tests.values():
        labels, batch, scores, order = _scored(model, test, online)
        folds.append(
            (labels, batch, scores, model.hold_threshold, model.spam_threshold, point, order)
        )
    return _per_source_and_pooled(tests, folds, online)


def _per_source_and_pooled(
    names: Iterable[str],
    folds: Sequence[tuple[list[bool], list[float], list[float], float, float, Any, str]],
    online: bool,
) -> dict[str, Any]:
    """Per source and pooled metrics from each source's (labels, batch scores, online scores,
    hold, spam, operating point, online order). Pooled online figures after warm-up
    concatenate each source's messages after its own first WARMUP decisions."""
    results: dict[str, Any] = {}
    hold, spam = DEFAULT_HOLD, DEFAULT_SPAM
    for name, (labels, batch, scores, hold, spam, point, order) in zip(names, folds, strict=True):
        results[name] = _summary(labels, batch, scores, hold, spam)
        if online:
            results[name]["online_order"] = order
        if point is not None:
            results[name]["operating_point"] = point
    labels = [x for p in folds for x in p[0]]
    results["pooled"] = {"batch": metrics([x for p in folds for x in p[1]], labels, hold, spam)}
    if online:
        results["pooled"]["online"] = metrics([x for p in folds for x in p[2]], labels, hold, spam)
        results["pooled"][f"online_after_{WARMUP}"] = metrics(
            [x for p in folds for x in p[2][WARMUP:]],
            [x for p in folds for x in p[0][WARMUP:]],
            hold,
            spam,
        )
    return results


def _kfold_fold(
    train: list[Example],
    always: Sequence[Sequence[Example]],
    test: list[Example],
    seed: int,
    online: bool,
    fit_args: dict[str, Any],
) -> tuple[list[float], list[float], float, float, float | None]:
    model = fit([train, *always], seed=seed, **fit_args)
    scores = run_batch(model, test)
    online_scores = run_online(model, test) if online else []
    point = model.meta.get("operating_point")
    cut = point["threshold"] if point is not None else None
    return scores, online_scores, model.hold_threshold, model.spam_threshold, cut


def kfold(
    examples: Sequence[Example],
    k: int = 10,
    always: Sequence[Sequence[Example]] = (),
    *,
    seed: int = 1,
    jobs: int = 1,
    online: bool = False,
    **fit_args: Any,
) -> dict[str, Any]:
    """Stratified k-fold (seeded): train on k-1 folds plus ``always``; pooled batch metrics.
    With ``online``, each fold's model also starts a site that scores its test messages in
    the order they were posted (file order for undated data) and learns each one's label
    (the TREC protocol, as :func:`leave_one_out`);
    the pooled figures after warm-up leave out each fold's first WARMUP decisions.
    ``jobs`` > 1 runs the folds in that many processes."""
    rng = random.Random(seed)  # noqa: S311 (seeded fold assignment, not security)
    spam_idx = [i for i, e in enumerate(examples) if e.is_spam]
    ham_idx = [i for i, e in enumerate(examples) if not e.is_spam]
    rng.shuffle(spam_idx)
    rng.shuffle(ham_idx)
    fold_of: dict[int, int] = {}
    for n, i in enumerate(spam_idx + ham_idx):
        fold_of[i] = n % k
    if jobs <= 1:
        fit_args.setdefault("cache", {})
    # Each fold's test messages in the order they were posted where the data is dated (the
    # online run replays them), else in the file's order.
    dated = chronological_order(examples)
    order = dated if dated is not None else range(len(examples))
    tests = [[i for i in order if fold_of[i] == fold] for fold in range(k)]
    tasks = [
        (
            [e for i, e in enumerate(examples) if fold_of[i] != fold],
            always,
            [examples[i] for i in tests[fold]],
            seed,
            online,
            fit_args,
        )
        for fold in range(k)
    ]
    scores = [0.0] * len(examples)
    done = _in_parallel(_kfold_fold, tasks, jobs)
    _, _, hold, spam, _ = done[-1]
    cuts = [cut for *_, cut in done]
    for fold, (fold_scores, *_) in enumerate(done):
        for i, score in zip(tests[fold], fold_scores, strict=True):
            scores[i] = score
    labels = [e.is_spam for e in examples]
    result: dict[str, Any] = {"batch": metrics(scores, labels, hold, spam)}
    if online:
        result["online_order"] = "file" if dated is None else "date"
        fold_labels = [[examples[i].is_spam for i in test] for test in tests]
        result["online"] = metrics(
            [x for d in done for x in d[1]], [x for f in fold_labels for x in f], hold, spam
        )
        result[f"online_after_{WARMUP}"] = metrics(
            [x for d in done for x in d[1][WARMUP:]],
            [x for f in fold_labels for x in f[WARMUP:]],
            hold,
            spam,
        )
    if any(c is not None for c in cuts):
        result["selected_cuts"] = cuts
    return result


def load_sources(paths: Sequence[Path | str]) -> list[list[Example]]:
    return [read_labelled(p) for p in paths]


def describe_sources(paths: Sequence[Path | str], sources: Sequence[list[Example]]) -> list[Any]:
    return [describe_file(p, s) for p, s in zip(paths, sources, strict=True)]
