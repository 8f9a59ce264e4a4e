"""The spam model: a hashed-feature logistic regression, its file format, and per-site learning.

* :class:`SpamModel` is the shipped base model (loaded once at start-up with :func:`load_model`).
* :class:`SiteModel` is one site's view: base weights plus a sparse per-site delta learned from
  that site's moderator decisions. ``learn()`` returns an :class:`Update` (the exact sparse
  change) for the service to persist; applying ``update.negated()`` undoes it exactly.

Exactness: every update value is rounded to a multiple of ``QUANTUM`` (2**-20). Sums of such
numbers are exact in IEEE double precision while they stay below 2**33 * QUANTUM (= 8192) in
magnitude, so per-site sums do not depend on the order updates were applied or undone in, and
``apply(u)`` followed by ``apply(u.negated())`` restores the previous weights bit for bit. A
PostgreSQL ``double precision`` or SQLite ``REAL`` column stores the values exactly.
"""

from __future__ import annotations

import array
import bisect
import collections
import gzip
import itertools
import json
import math
import operator
import random
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

from service.spam.features import FeatureConfig, FeatureExtractor, Features, Parsed, describe

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "QUANTUM",
    "ModelError",
    "SiteModel",
    "SpamModel",
    "SpamScore",
    "Update",
    "dump_model",
    "load_model",
    "train_weights",
]

FORMAT = "margin-spam-model"
FORMAT_VERSION = 2  # 2: HTML-cleaned text, promotion-phrase features
QUANTUM = 2.0**-20
_MAX_DELTA = 4096.0  # per-site weights are clamped here so that sums stay exact (see above)

Verdict = Literal["ok", "hold", "spam"]


class ModelError(Exception):
    """The model file is missing, unreadable, corrupt, truncated or of another format version."""


@dataclass(frozen=True)
class SpamScore:
    probability: float
    top_features: list[tuple[str, float]]
    verdict: Verdict = "ok"


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _quantize(value: float) -> float:
    return round(value / QUANTUM) * QUANTUM


_K = TypeVar("_K")
_V = TypeVar("_V")


class _Memo(dict[_K, _V], Generic[_K, _V]):
    """``memo[key]`` is ``compute(key)``, remembered; emptied when it holds ``maxsize`` entries.

    A plain dict hit (no LRU bookkeeping) is what keeps the per-word lookups cheap.
    """

    def __init__(self, compute: Callable[[_K], _V], maxsize: int) -> None:
        super().__init__()
        self.compute = compute
        self.maxsize = maxsize

    def __missing__(self, key: _K) -> _V:
        if len(self) >= self.maxsize:
            self.clear()
        value = self[key] = self.compute(key)
        return value


class _SparseWeights(dict[int, float]):
    """Weights by slot, 0.0 for a slot without one (``weights[slot]`` never raises)."""

    def __missing__(self, key: int) -> float:
        return 0.0


# Up to this many hashing bits the weights are also kept as one flat array of doubles (8 MiB
# at 20 bits): an index into it is one memory access, a dict lookup several.
_DENSE_MAX_BITS = 22

# Distinct words whose weight sums are remembered (a few hundred bytes each: ~10 MB when full).
WORD_CACHE = 32768


class _DenseWeights(Mapping[int, float]):
    """Read-only ``slot -> weight`` over a flat array of doubles and the sorted slots that have
    a weight. A dict of 100,000 Python ints and floats costs ~10 MB; this costs the array
    (which scoring needs anyway) plus 4 bytes a slot."""

    def __init__(self, slots: array.array[int], dense: array.array[float]) -> None:
        self._slots = slots
        self._dense = dense

    def __getitem__(self, slot: int) -> float:
        i = bisect.bisect_left(self._slots, slot)
        if i == len(self._slots) or self._slots[i] != slot:
            raise KeyError(slot)
        return self._dense[slot]

    def __iter__(self) -> Iterator[int]:
        return iter(self._slots)

    def __len__(self) -> int:
        return len(self._slots)


@dataclass
class SpamModel:
    """Base model. ``weights`` maps hashed slot -> weight; ``names`` maps slot -> feature key.

    ``weights`` is copied at construction into the array scoring reads, and then replaced by a
    read-only view of it. ``names`` only serve inspection and ``dump_model`` (scoring explains
    itself from the comment's own features): the server loads a model without them.
    """

    config: FeatureConfig
    weights: Mapping[int, float]
    bias: float
    hold_threshold: float
    spam_threshold: float
    names: dict[int, str] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    cache_size: int = WORD_CACHE

    def __post_init__(self) -> None:
        self.extractor = FeatureExtractor(self.config, self.cache_size)
        self.weight_of: Callable[[int], float]
        if self.config.bits <= _DENSE_MAX_BITS:
            dense = array.array("d", bytes(8 << self.config.bits))
            collections.deque(map(dense.__setitem__, self.weights, self.weights.values()), 0)
            self.weight_of = dense.__getitem__
            self.weights = _DenseWeights(array.array("l", sorted(self.weights)), dense)
        else:
            self.weight_of = _SparseWeights(dict(self.weights)).__getitem__
        self._word_memo: _Memo[str, _WordWeights] = _Memo(self._word_weights, self.cache_size)
        self.word_weights: Callable[[str], _WordWeights] = self._word_memo.__getitem__

    def _word_weights(self, tok: str) -> _WordWeights:
        weight_of = self.weight_of
        slots = self.extractor.word(tok)
        unigram = tuple(slot for slot, _ in slots.words)
        return (
            len(unigram),
            len(slots.chars),
            sum(map(weight_of, unigram)),
            sum(map(weight_of, map(_FIRST, slots.chars))),
            unigram,
        )

    def clear_caches(self) -> None:
        """Forget every per-word and per-chunk result (for benchmarks of the cold path)."""
        self._word_memo.clear()
        self.extractor.clear_caches()

    def features(self, text: str, author_name: str = "", website: str | None = None) -> Features:
        """The explicit feature vector (what training and learning use)."""
        return self.extractor.extract(text, author_name, website)

    def verdict(self, probability: float) -> Verdict:
        if probability >= self.spam_threshold:
            return "spam"
        if probability >= self.hold_threshold:
            return "hold"
        return "ok"

    def score(
        self, text: str, author_name: str = "", website: str | None = None, top: int = 5
    ) -> SpamScore:
        """Spam probability and the strongest reasons (positive = towards spam)."""
        parsed = self.extractor.parse(text, author_name, website)
        return _score(self, parsed, _EMPTY, 0.0, top)


# (unigram slot count, char slot count, unigram weight sum, char weight sum, unigram slots)
_WordWeights = tuple[int, int, float, float, tuple[int, ...]]
_EMPTY: Mapping[int, float] = {}
_ZEROS = itertools.repeat(0.0)
_FIRST = operator.itemgetter(0)
_UNIGRAMS = operator.itemgetter(4)
_POSITIVE = (0.0).__lt__


def _score(
    model: SpamModel, parsed: Parsed, delta: Mapping[int, float], bias_delta: float, top: int
) -> SpamScore:
    """Fast path, equal to ``bias + sum(weight * value)`` over ``extractor.vector(parsed)``.

    ``delta`` may only hold word-group (unigram, bigram) and meta slots; see SiteModel.
    """
    cfg = model.config
    weight_of = model.weight_of
    counts = Counter(parsed.tokens)
    toks = list(counts)
    cnts = list(counts.values())
    pair_slots = parsed.pair_slots
    n_words = len(pair_slots)
    n_chars = 0
    word_sum = 0.0
    char_sum = 0.0
    wus: Sequence[float] = ()
    wcs: Sequence[float] = ()
    if toks:
        # Column-wise over the distinct words, in C (map/zip/sum), not a Python loop.
        nus, ncs, wus, wcs, unigrams = zip(*map(model.word_weights, toks), strict=True)
        if delta:
            wus = [w + sum(map(delta.get, u, _ZEROS)) for w, u in zip(wus, unigrams, strict=True)]
        n_words += sum(map(operator.mul, cnts, nus))
        n_chars = sum(map(operator.mul, cnts, ncs))
        word_sum = sum(map(operator.mul, cnts, wus))
        char_sum = sum(map(operator.mul, cnts, wcs))
    pair_weights = list(map(weight_of, pair_slots))
    meta_weights = list(map(weight_of, parsed.meta))
    if delta:
        pair_weights = list(map(operator.add, pair_weights, map(delta.get, pair_slots, _ZEROS)))
        meta_weights = list(map(operator.add, meta_weights, map(delta.get, parsed.meta, _ZEROS)))
    word_sum += sum(pair_weights)
    wv = cfg.word_scale / math.sqrt(n_words) if n_words else 0.0
    cv = cfg.char_scale / math.sqrt(n_chars) if n_chars else 0.0
    mv = cfg.meta_scale
    z = model.bias + bias_delta + wv * word_sum + cv * char_sum + mv * sum(meta_weights)
    probability = _sigmoid(z)
    verdict = model.verdict(probability)
    if top <= 0:
        return SpamScore(probability, [], verdict)
    # Reasons in the direction of the verdict: towards spam when held, towards ham otherwise.
    # A word's contribution includes its spelling (char n-gram) weights.
    sign = float(-wv if verdict == "ok" else wv)
    csign = cv * sign / wv if wv else 0.0
    msign = float(mv if verdict != "ok" else -mv)
    contributions = [c * (wu * sign + wc * csign) for c, wu, wc in zip(cnts, wus, wcs, strict=True)]
    n_tok = len(contributions)
    n_pair = len(pair_weights)
    contributions += map(sign.__rmul__, pair_weights)
    contributions += map(msign.__rmul__, meta_weights)
    # The candidates: every positive contribution at least as large as the top-th largest.
    positive = sorted(filter(_POSITIVE, contributions), reverse=True)
    if len(contributions) > top and len(positive) >= top:
        keep = positive[top - 1].__le__
    else:
        keep = _POSITIVE
    picked = itertools.compress(itertools.count(), map(keep, contributions))
    candidates = sorted(((contributions[i], i) for i in picked), reverse=True)
    meta_keys = list(parsed.meta.values())
    reasons: list[tuple[str, float]] = []
    unit = 1.0 if verdict != "ok" else -1.0
    for c, i in candidates:
        if i < n_tok:
            name = f'word "{toks[i]}"'
        elif i < n_tok + n_pair:
            name = describe(parsed.pair_key(i - n_tok))
        else:
            name = describe(meta_keys[i - n_tok - n_pair])
        if all(name != r for r, _ in reasons):
            reasons.append((name, round(c * unit, 4)))
        if len(reasons) == top:
            break
    return SpamScore(probability, reasons, verdict)


# --- per-site learning -----------------------------------------------------------------------


@dataclass(frozen=True)
class Update:
    """A sparse change to a site's weights; values are multiples of ``QUANTUM``."""

    weights: dict[int, float]
    bias: float
    is_spam: bool

    def negated(self) -> Update:
        return Update({s: -v for s, v in self.weights.items()}, -self.bias, self.is_spam)

    def to_json(self) -> dict[str, Any]:
        return {
            "weights": {str(s): v for s, v in sorted(self.weights.items())},
            "bias": self.bias,
            "is_spam": self.is_spam,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Update:
        return cls(
            {int(s): float(v) for s, v in data["weights"].items()},
            float(data["bias"]),
            bool(data["is_spam"]),
        )


class SiteModel:
    """A site's model: the shared base plus this site's own sparse delta.

    The delta covers word, bigram and link/shape (meta) slots and the bias; character n-grams
    stay as shipped (they generalise; per-site vocabulary is what a site teaches). ``delta`` is
    copied: the caller's mapping is never changed, and SiteModels sharing a base are independent.
    """

    def __init__(
        self,
        base: SpamModel,
        delta: Mapping[int, float] | None = None,
        bias_delta: float = 0.0,
        learning_rate: float | None = None,
    ) -> None:
        self.base = base
        self.delta: dict[int, float] = {s: v for s, v in (delta or {}).items() if v}
        self.bias_delta = bias_delta
        online = base.meta.get("online", {})
        self.learning_rate = float(
            learning_rate if learning_rate is not None else online.get("learning_rate", 1.0)
        )
        self.bias_rate = float(online.get("bias_rate", 0.0))
        # Legitimate comments wrongly held cost more than spam let through: a ham decision
        # may teach harder than a spam one.
        self.ham_factor = float(online.get("ham_factor", 1.0))
        # Link/shape (meta) features have a larger value than a word's share; their steps are
        # scaled down so one decision does not swing every comment with the same shape.
        self.meta_factor = float(online.get("meta_factor", 1.0))

    def score(
        self, text: str, author_name: str = "", website: str | None = None, top: int = 5
    ) -> SpamScore:
        parsed = self.base.extractor.parse(text, author_name, website)
        return _score(self.base, parsed, self.delta, self.bias_delta, top)

    def learn(
        self, text: str, author_name: str = "", website: str | None = None, *, is_spam: bool
    ) -> Update:
        """Learn from one moderator decision: apply it here and return it for persisting.

        One logistic-regression gradient step on this site's weights. Deterministic: the same
        state and comment always give the same update.
        """
        extractor = self.base.extractor
        parsed = extractor.parse(text, author_name, website)
        p = _score(self.base, parsed, self.delta, self.bias_delta, 0).probability
        g = 1.0 - p if is_spam else -p * self.ham_factor
        cfg = self.base.config
        per_token = list(map(self.base.word_weights, parsed.tokens))
        n_words = len(parsed.pair_slots) + sum(map(len, map(_UNIGRAMS, per_token)))
        wv = cfg.word_scale / math.sqrt(n_words) if n_words else 0.0
        mv = cfg.meta_scale * self.meta_factor
        # Added up one occurrence at a time, in this order (a slot may be shared).
        values: dict[int, float] = {}
        get = values.get
        for slot in itertools.chain.from_iterable(map(_UNIGRAMS, per_token)):
            values[slot] = get(slot, 0.0) + wv
        for slot in parsed.pair_slots:
            values[slot] = get(slot, 0.0) + wv
        for slot in parsed.meta:
            values[slot] = get(slot, 0.0) + mv
        lr = self.learning_rate
        changes: dict[int, float] = {}
        for slot, value in values.items():
            step = _quantize(lr * g * value)
            if step:
                changes[slot] = step
        update = Update(changes, _quantize(self.bias_rate * g), is_spam)
        self.apply(update)
        return update

    def apply(self, update: Update) -> None:
        """Add an update (``apply(update.negated())`` undoes it exactly)."""
        delta = self.delta
        for slot, step in update.weights.items():
            value = max(-_MAX_DELTA, min(_MAX_DELTA, delta.get(slot, 0.0) + step))
            if value:
                delta[slot] = value
            else:
                delta.pop(slot, None)
        self.bias_delta = max(-_MAX_DELTA, min(_MAX_DELTA, self.bias_delta + update.bias))


# --- training ------------------------------------------------------------------------------


def train_weights(
    examples: Sequence[tuple[Features, bool, float]],
    *,
    seed: int,
    epochs: int = 12,
    learning_rate: float = 0.5,
    l2: float = 1e-4,
) -> tuple[dict[int, float], float]:
    """Logistic regression by AdaGrad over (features, is_spam, sample weight) examples.

    Deterministic for a given seed and example order (pure Python floats, seeded shuffling).
    Returns (weights, bias).
    """
    rng = random.Random(seed)  # noqa: S311 (seeded shuffling, not security)
    w: dict[int, float] = {}
    g2: dict[int, float] = {}
    bias = 0.0
    bias_g2 = 0.0
    order = list(range(len(examples)))
    for _ in range(epochs):
        rng.shuffle(order)
        for idx in order:
            feats, label, sw = examples[idx]
            values = feats.values
            z = bias
            for slot, v in values.items():
                z += w.get(slot, 0.0) * v
            err = (_sigmoid(z) - (1.0 if label else 0.0)) * sw
            for slot, v in values.items():
                wi = w.get(slot, 0.0)
                grad = err * v + l2 * wi
                acc = g2.get(slot, 0.0) + grad * grad
                g2[slot] = acc
                w[slot] = wi - learning_rate * grad / (math.sqrt(acc) + 1e-8)
            bias_g2 += err * err
            bias -= learning_rate * err / (math.sqrt(bias_g2) + 1e-8)
    return w, bias


# --- file format -----------------------------------------------------------------------------


def _round(value: float) -> float:
    return float(f"{value:.6g}")


def dump_model(model: SpamModel, path: Path | str) -> None:
    """Write the model as deterministic JSON (gzip without timestamp when the name ends .gz)."""
    rows = [
        [slot, _round(w), model.names.get(slot, "")] for slot, w in sorted(model.weights.items())
    ]
    doc = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "features": model.config.to_json(),
        "bias": _round(model.bias),
        "thresholds": {
            "hold": _round(model.hold_threshold),
            "spam": _round(model.spam_threshold),
        },
        **{k: v for k, v in sorted(model.meta.items()) if k not in _RESERVED},
        "n_weights": len(rows),
        "weights": rows,
    }
    text = json.dumps(doc, indent=None, separators=(",", ":"), ensure_ascii=False)
    # One weight row per line keeps the file greppable and diffable.
    text = text.replace('"weights":[[', '"weights":[\n[').replace("],[", "],\n[")
    data = (text + "\n").encode("utf-8")
    path = Path(path)
    if path.suffix == ".gz":
        data = gzip.compress(data, compresslevel=9, mtime=0)
    path.write_bytes(data)


_RESERVED = {"format", "version", "features", "bias", "thresholds", "n_weights", "weights"}


def _fail(path: Path, message: str) -> ModelError:
    return ModelError(f"spam model {path}: {message}")


def _number(path: Path, value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _fail(path, f"{what} must be a finite number, got {value!r}")
    return float(value)


def load_model(path: Path | str, *, names: bool = True) -> SpamModel:
    """Read and validate a model file; raise :class:`ModelError` with a clear message.

    ``names=False`` checks every feature name but does not keep them (a server does not
    need them; about 10 MB less per process).
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise _fail(path, "file not found (train one with `margin spam train`)") from None
    except OSError as exc:
        raise _fail(path, f"cannot read: {exc.strerror or exc}") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise _fail(path, f"corrupt or truncated gzip data ({exc})") from None
    try:
        doc = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise _fail(path, "not UTF-8 text (corrupt file?)") from None
    except json.JSONDecodeError as exc:
        raise _fail(path, f"not valid JSON, corrupt or truncated ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise _fail(path, f'not a Margin spam model (expected "format": "{FORMAT}")')
    version = doc.get("version")
    if version != FORMAT_VERSION:
        raise _fail(
            path,
            f"format version {version!r} is not supported (this Margin reads version "
            f"{FORMAT_VERSION}); retrain with `margin spam train`",
        )
    config = _load_config(path, doc.get("features"))
    bias = _number(path, doc.get("bias"), "bias")
    thresholds = doc.get("thresholds")
    if not isinstance(thresholds, dict):
        raise _fail(path, '"thresholds" must be an object with "hold" and "spam"')
    hold = _number(path, thresholds.get("hold"), "thresholds.hold")
    spam = _number(path, thresholds.get("spam"), "thresholds.spam")
    if not 0.0 < hold <= spam < 1.0:
        raise _fail(path, f"thresholds must satisfy 0 < hold <= spam < 1, got {hold}, {spam}")
    rows = doc.get("weights")
    if not isinstance(rows, list):
        raise _fail(path, '"weights" must be a list of [slot, weight, feature] rows')
    if doc.get("n_weights") != len(rows):
        raise _fail(
            path,
            f"declares {doc.get('n_weights')!r} weights but holds {len(rows)} (truncated?)",
        )
    size = 1 << config.bits
    weights: dict[int, float] = {}
    kept_names: dict[int, str] = {}
    for i, row in enumerate(rows):
        if not (isinstance(row, list) and len(row) == 3):
            raise _fail(path, f"weights[{i}] must be [slot, weight, feature], got {row!r}")
        slot, weight, name = row
        if isinstance(slot, bool) or not isinstance(slot, int) or not 0 <= slot < size:
            raise _fail(path, f"weights[{i}]: slot {slot!r} outside 0..{size - 1}")
        if slot in weights:
            raise _fail(path, f"weights[{i}]: slot {slot} listed twice")
        weights[slot] = _number(path, weight, f"weights[{i}] weight")
        if not isinstance(name, str):
            raise _fail(path, f"weights[{i}]: feature name must be a string")
        if name:
            if zlib.crc32(name.encode("utf-8")) & (size - 1) != slot:
                raise _fail(path, f"weights[{i}]: feature {name!r} does not hash to slot {slot}")
            if names:
                kept_names[slot] = name
    meta = {k: v for k, v in doc.items() if k not in _RESERVED}
    online = meta.get("online", {})
    if not isinstance(online, dict):
        raise _fail(path, '"online" must be an object')
    for key in ("learning_rate", "bias_rate", "ham_factor", "meta_factor"):
        if key in online:
            _number(path, online[key], f"online.{key}")
    del doc, rows  # the parsed document is the load's peak; free it before building
    return SpamModel(config, weights, bias, hold, spam, kept_names, meta)


def _load_config(path: Path, raw: Any) -> FeatureConfig:
    if not isinstance(raw, dict):
        raise _fail(path, '"features" must be an object with the hashing parameters')
    if raw.get("hash") != "crc32-utf8":
        raise _fail(path, f"unsupported feature hash {raw.get('hash')!r}")
    ints: dict[str, int] = {}
    for key, low, high in (
        ("bits", 10, 28),
        ("char_min", 1, 10),
        ("char_max", 1, 10),
        ("max_word_chars", 1, 1000),
    ):
        value = raw.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise _fail(path, f"features.{key} must be an integer in {low}..{high}, got {value!r}")
        ints[key] = value
    if ints["char_min"] > ints["char_max"]:
        raise _fail(path, "features.char_min must not exceed features.char_max")
    floats = {
        key: _number(path, raw.get(key), f"features.{key}")
        for key in ("word_scale", "char_scale", "meta_scale")
    }
    return FeatureConfig(
        bits=ints["bits"],
        char_min=ints["char_min"],
        char_max=ints["char_max"],
        max_word_chars=ints["max_word_chars"],
        **floats,
    )


def iter_slots(model: SpamModel) -> Iterable[tuple[int, float, str]]:
    for slot, w in sorted(model.weights.items()):
        yield slot, w, model.names.get(slot, "")
