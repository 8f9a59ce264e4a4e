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
import re
import zlib
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from service.spam.features import (
    FeatureConfig,
    FeatureExtractor,
    Features,
    Memo,
    Parsed,
    describe,
)

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


class SpamScore:
    """A score: ``probability``, ``verdict``, and ``top_features``, the strongest reasons as
    ``(reason, contribution)`` pairs. The reasons are worked out on first use (from numbers
    captured when scoring, so later learning does not change them): callers that only need
    the probability do not pay for them."""

    __slots__ = ("_explain", "_top", "probability", "verdict")

    def __init__(
        self,
        probability: float,
        top_features: list[tuple[str, float]] | None = None,
        verdict: Verdict = "ok",
        explain: Callable[[], list[tuple[str, float]]] | None = None,
    ) -> None:
        self.probability = probability
        self.verdict: Verdict = verdict
        self._top = top_features
        self._explain = explain

    @property
    def top_features(self) -> list[tuple[str, float]]:
        if self._top is None:
            explain, self._explain = self._explain, None
            self._top = explain() if explain is not None else []
        return self._top

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SpamScore):
            return NotImplemented
        return (self.probability, self.verdict, self.top_features) == (
            other.probability,
            other.verdict,
            other.top_features,
        )

    __hash__ = None  # type: ignore[assignment]  # mutable cache, compared by value

    def __repr__(self) -> str:
        return (
            f"SpamScore(probability={self.probability!r}, top_features={self.top_features!r}, "
            f"verdict={self.verdict!r})"
        )


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _quantize(value: float) -> float:
    return round(value / QUANTUM) * QUANTUM


class _SparseWeights(dict[int, float]):
    """Weights by slot, 0.0 for a slot without one (``weights[slot]`` never raises)."""

    def __missing__(self, key: int) -> float:
        return 0.0


# Up to this many hashing bits the weights are also kept as one flat array of doubles (8 MiB
# at 20 bits): an index into it is one memory access, a dict lookup several.
_DENSE_MAX_BITS = 22

# Per site model, distinct words whose delta sums are remembered (~100 bytes each).
SITE_WORD_CACHE = 16384
# Per process (shared by the sites), distinct words whose char n-gram slots are remembered for
# sites that learn them (an array of ~15-30 slots, ~200 bytes a word): a site's delta sums are
# emptied by every decision it learns, and summing again over remembered slots is cheap where
# working out a word's n-grams is not.
CHAR_SLOT_CACHE = 16384

# Distinct words whose weight sums are remembered (a few hundred bytes each), and half as many
# whitespace-separated chunks; a full cache drops its older half. In isolation the filled
# caches held ~52 MB at 32,768 words, ~41 MB at 16,384 and ~27 MB at 8,192; a server worker
# after 4,600 benchmark posts was at 140 MB with 16,384 and 138 MB with 8,192 (start-up peak
# 144 MB either way), while 8,192 made the synthetic scoring bench (~15,000 distinct words)
# miss its cache on most words (docs/performance.md).
WORD_CACHE = 16384


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
        self._word_memo: Memo[str, _WordWeights] = Memo(self._word_weights, self.cache_size)
        self.word_weights: Callable[[str], _WordWeights] = self._word_memo.__getitem__
        self._char_slot_memo: Memo[str, array.array[int]] = Memo(self._char_slots, CHAR_SLOT_CACHE)
        self.char_slots: Callable[[str], array.array[int]] = self._char_slot_memo.__getitem__
        # Parsing attaches each token's weight sums (kept with its chunk): see _score.
        self.extractor = FeatureExtractor(self.config, self.cache_size, self.word_weights)
        self.weight_of: Callable[[int], float]
        if self.config.bits <= _DENSE_MAX_BITS:
            dense = array.array("d", bytes(8 << self.config.bits))
            collections.deque(map(dense.__setitem__, self.weights, self.weights.values()), 0)
            self.weight_of = dense.__getitem__
            self.weights = _DenseWeights(array.array("l", sorted(self.weights)), dense)
        else:
            self.weight_of = _SparseWeights(dict(self.weights)).__getitem__

    def _char_slots(self, tok: str) -> array.array[int]:
        return array.array("l", map(_FIRST, self.extractor.word(tok).chars))

    def _word_weights(self, tok: str) -> _WordWeights:
        weight_of = self.weight_of
        slots = self.extractor.word(tok)
        unigram = tuple(slot for slot, _ in slots.words)
        utf8 = tok.encode("utf-8")
        return (
            tok,
            len(unigram) + (len(slots.chars) << _SHIFT),
            complex(sum(map(weight_of, unigram)), sum(map(weight_of, map(_FIRST, slots.chars)))),
            unigram,
            utf8,
            # CRC-32 of "b:<word> ", from which the next bigram's slot is one crc32() call
            zlib.crc32(utf8 + b" ", _PAIR_START),
        )

    def clear_caches(self) -> None:
        """Forget every per-word and per-chunk result (for benchmarks of the cold path)."""
        self._word_memo.clear()
        self._char_slot_memo.clear()
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


# Per word: (word, unigram slot count + char n-gram slot count << _SHIFT, unigram weight sum +
# char n-gram weight sum * 1j, unigram slots, UTF-8 of the word, CRC-32 of "b:<word> "). The
# word comes first (see FeatureExtractor). Packing two counts into an int and two sums into a
# complex number lets one C-level sum() over a comment's words add up both.
_WordWeights = tuple[str, int, complex, tuple[int, ...], bytes, int]
_SHIFT = 40  # a comment would need 2**40 unigram slots to carry into the char count
_EMPTY: Mapping[int, float] = {}
_ZEROS = itertools.repeat(0.0)
_FIRST = operator.itemgetter(0)
_COUNTS = operator.itemgetter(1)
_SUMS = operator.itemgetter(2)
_UNIGRAMS = operator.itemgetter(3)
_REAL = operator.attrgetter("real")
_PAIR_START = zlib.crc32(b"b:")
_POSITIVE = (0.0).__lt__


def _score(
    model: SpamModel,
    parsed: Parsed,
    delta: Mapping[int, float],
    bias_delta: float,
    top: int,
    word_delta: Callable[[str], complex] | None = None,
) -> SpamScore:
    """Fast path, equal to ``bias + sum(weight * value)`` over ``extractor.vector(parsed)``.

    With a ``delta``, ``word_delta`` gives each word's share of it: over its unigram slots
    (real part) and its char n-gram slots (imaginary part); see SiteModel.
    Column-wise over the words, in C (map/sum/itemgetter), not Python loops; per word the
    weight sums come from the model's memo.
    """
    cfg = model.config
    weight_of = model.weight_of
    meta = parsed.meta
    per_token = parsed.infos or list(map(model.word_weights, parsed.tokens))
    pair_slots = parsed.pairs
    counts = sum(map(_COUNTS, per_token))
    n_words = len(pair_slots) + (counts & _LOW)
    n_chars = counts >> _SHIFT
    # unigram weight sum (real part) and char n-gram weight sum (imaginary part) per token
    word_weights: Sequence[complex] | None = None
    pair_weights: list[float] | None = None
    meta_weights: list[float] | None = None
    if delta:
        get = delta.get
        assert word_delta is not None, "a delta is scored with its per-word sums"
        word_weights = list(
            map(operator.add, map(_SUMS, per_token), map(word_delta, parsed.tokens))
        )
        pair_weights = list(
            map(operator.add, map(weight_of, pair_slots), map(get, pair_slots, _ZEROS))
        )
        meta_weights = list(map(operator.add, map(weight_of, meta), map(get, meta, _ZEROS)))
        sums = sum(word_weights, 0j)
        pair_sum = sum(pair_weights)
        meta_sum = sum(meta_weights)
    else:
        # The base weights never change: the per-feature lists are only built for the reasons.
        sums = sum(map(_SUMS, per_token), 0j)
        pair_sum = sum(map(weight_of, pair_slots))
        meta_sum = sum(map(weight_of, meta))
    wv = cfg.word_scale / math.sqrt(n_words) if n_words else 0.0
    cv = cfg.char_scale / math.sqrt(n_chars) if n_chars else 0.0
    mv = cfg.meta_scale
    word_sum = sums.real + pair_sum
    z = model.bias + bias_delta + wv * word_sum + cv * sums.imag + mv * meta_sum
    probability = _sigmoid(z)
    verdict = model.verdict(probability)
    if top <= 0:
        return SpamScore(probability, [], verdict)

    def explain() -> list[tuple[str, float]]:
        return _reasons(
            parsed,
            list(map(_SUMS, per_token)) if word_weights is None else word_weights,
            list(map(weight_of, pair_slots)) if pair_weights is None else pair_weights,
            list(map(weight_of, meta)) if meta_weights is None else meta_weights,
            wv,
            cv,
            mv,
            verdict,
            top,
        )

    return SpamScore(probability, None, verdict, explain)


_LOW = (1 << _SHIFT) - 1


def _reasons(
    parsed: Parsed,
    word_weights: Sequence[complex],
    pair_weights: Sequence[float],
    meta_weights: Sequence[float],
    wv: float,
    cv: float,
    mv: float,
    verdict: Verdict,
    top: int,
) -> list[tuple[str, float]]:
    """The ``top`` strongest contributions in the direction of the verdict: towards spam when
    held, towards ham otherwise. A word's contribution is all its occurrences' and includes
    its spelling (char n-gram) weights; a bigram or meta feature is named once."""
    tokens = parsed.tokens
    counts = collections.Counter(tokens)
    toks = list(counts)
    unit = 1.0 if verdict != "ok" else -1.0
    sign = wv * unit
    # (u + c*1j) * (wv - cv*1j) has the real part wv*u + cv*c
    project = complex(sign, -cv * unit).__mul__
    # The same word has the same weights at each occurrence: the last one stands for all.
    last = map(dict(zip(tokens, itertools.count())).__getitem__, toks)
    contributions = list(
        map(
            operator.mul,
            counts.values(),
            map(_REAL, map(project, map(word_weights.__getitem__, last))),
        )
    )
    n_tok = len(contributions)
    n_pair = len(pair_weights)
    contributions += map(sign.__mul__, pair_weights)
    contributions += map((mv * unit).__mul__, meta_weights)
    # Strongest first; a name may come twice (a repeated bigram), so a few spare.
    order = sorted(range(len(contributions)), key=contributions.__getitem__, reverse=True)
    meta_keys = list(parsed.meta.values())
    reasons: list[tuple[str, float]] = []
    for i in order:
        c = contributions[i]
        if c <= 0.0:
            break
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
    return reasons


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

    The delta covers word, bigram and link/shape (meta) slots and the bias, and with the
    model's ``online.char_factor`` the words' character n-grams too (a site's spam comes back
    misspelt: "sucscribe", "subscibe"). ``delta`` is copied: the caller's mapping is never
    changed, and SiteModels sharing a base are independent.
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
        # Per word, the sum of this site's delta over its unigram slots (+ 1j * over its char
        # n-gram slots); emptied by apply().
        self._word_delta: Memo[str, complex] = Memo(self._delta_of_word, SITE_WORD_CACHE)
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
        # Character n-gram steps, relative to a word's: 0 leaves them as shipped (model files
        # written before it existed).
        self.char_factor = float(online.get("char_factor", 0.0))

    def score(
        self, text: str, author_name: str = "", website: str | None = None, top: int = 5
    ) -> SpamScore:
        parsed = self.base.extractor.parse(text, author_name, website)
        return _score(
            self.base, parsed, self.delta, self.bias_delta, top, self._word_delta.__getitem__
        )

    def _delta_of_word(self, tok: str) -> complex:
        get = self.delta.get
        words = sum(map(get, _UNIGRAMS(self.base.word_weights(tok)), _ZEROS))
        if not self.char_factor:
            return complex(words)
        return complex(words, sum(map(get, self.base.char_slots(tok), _ZEROS)))

    def learn(
        self, text: str, author_name: str = "", website: str | None = None, *, is_spam: bool
    ) -> Update:
        """Learn from one moderator decision: apply it here and return it for persisting.

        One logistic-regression gradient step on this site's weights. Deterministic: the same
        state and comment always give the same update.
        """
        extractor = self.base.extractor
        parsed = extractor.parse(text, author_name, website)
        p = _score(
            self.base, parsed, self.delta, self.bias_delta, 0, self._word_delta.__getitem__
        ).probability
        g = 1.0 - p if is_spam else -p * self.ham_factor
        cfg = self.base.config
        per_token = parsed.infos or list(map(self.base.word_weights, parsed.tokens))
        pair_slots = parsed.pairs
        counts = sum(map(_COUNTS, per_token))
        n_words = len(pair_slots) + (counts & _LOW)
        n_chars = counts >> _SHIFT
        wv = cfg.word_scale / math.sqrt(n_words) if n_words else 0.0
        cv = cfg.char_scale / math.sqrt(n_chars) * self.char_factor if n_chars else 0.0
        mv = cfg.meta_scale * self.meta_factor
        # Added up one occurrence at a time, in this order (a slot may be shared).
        values: dict[int, float] = {}
        get = values.get
        for slot in itertools.chain.from_iterable(map(_UNIGRAMS, per_token)):
            values[slot] = get(slot, 0.0) + wv
        for slot in pair_slots:
            values[slot] = get(slot, 0.0) + wv
        if cv:
            char_slots = self.base.char_slots
            for slot in itertools.chain.from_iterable(map(char_slots, parsed.tokens)):
                values[slot] = get(slot, 0.0) + cv
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
        self._word_delta.clear()
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
    average: bool = False,
    nonneg: Collection[int] = frozenset(),
) -> tuple[dict[int, float], float]:
    """Logistic regression by AdaGrad over (features, is_spam, sample weight) examples.

    Weights of the slots in ``nonneg`` are kept at zero or above (projected after every
    step): features that can only be evidence for spam.

    Deterministic for a given seed and example order (pure Python floats, seeded shuffling).
    Returns (weights, bias): the last iterate or, with ``average``, the mean of the iterates
    (the starting zeros and the weights after every example: averaged SGD), computed as
    ``w - u / c`` where ``u`` adds up every step times its step number and ``c`` is the number
    of iterates.
    """
    rng = random.Random(seed)  # noqa: S311 (seeded shuffling, not security)
    w: dict[int, float] = {}
    g2: dict[int, float] = {}
    u: dict[int, float] = {}
    bias = 0.0
    bias_g2 = 0.0
    bias_u = 0.0
    c = 1.0
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
                step = learning_rate * grad / (math.sqrt(acc) + 1e-8)
                wi -= step
                if wi < 0.0 and slot in nonneg:
                    step += wi
                    wi = 0.0
                w[slot] = wi
                if average:
                    u[slot] = u.get(slot, 0.0) - c * step
            bias_g2 += err * err
            step = learning_rate * err / (math.sqrt(bias_g2) + 1e-8)
            bias -= step
            if average:
                bias_u -= c * step
                c += 1.0
    if average:
        return {s: v - u.get(s, 0.0) / c for s, v in w.items()}, bias - bias_u / c
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
        text = raw.decode("utf-8")
        del raw  # the text is all that is needed now (the load's peak is the worker's)
        doc, weight_rows = _read_document(text)
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
    rows = weight_rows if weight_rows is not None else doc.get("weights")
    if not isinstance(rows, (list, _Rows)):
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
    for key in ("learning_rate", "bias_rate", "ham_factor", "meta_factor", "char_factor"):
        if key in online:
            _number(path, online[key], f"online.{key}")
    del doc, rows, weight_rows, text  # the parsed document: free it before building
    return SpamModel(config, weights, bias, hold, spam, kept_names, meta)


_JSON = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")


def _skip_space(text: str, pos: int) -> int:
    match = _SPACE.match(text, pos)  # always matches (possibly empty)
    return match.end() if match else pos


class _Rows:
    """The ``"weights"`` array of a model file, decoded one row at a time when iterated: as
    Python lists the ~100,000 rows would be about 20 MB at once, which was the peak of a
    worker's memory (the whole model then takes ~9 MB)."""

    def __init__(self, text: str, start: int, count: int) -> None:
        self.text, self.start, self.count = text, start, count

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[Any]:
        return (row for row, _ in _array_items(self.text, self.start))


def _array_items(text: str, pos: int) -> Iterator[tuple[Any, int]]:
    """Each element of the JSON array starting at ``text[pos] == "["``, with the position after
    it and its whitespace; when the iteration ends, the closing ``]`` is at the last position.
    Raises json.JSONDecodeError as json.loads would."""
    pos = _skip_space(text, pos + 1)
    if text.startswith("]", pos):
        return
    while True:
        item, pos = _JSON.raw_decode(text, pos)
        pos = _skip_space(text, pos)
        yield item, pos
        if text.startswith(",", pos):
            pos = _skip_space(text, pos + 1)
        elif not text.startswith("]", pos):
            raise json.JSONDecodeError("Expecting ',' delimiter", text, pos)
        else:
            return


def _read_document(text: str) -> tuple[dict[str, Any], _Rows | None]:
    """``json.loads(text)`` for a model file, except that a ``"weights"`` array is checked and
    counted but left in the text, to be decoded row by row (:class:`_Rows`)."""
    pos = _skip_space(text, 0)
    if not text.startswith("{", pos):
        return json.loads(text), None  # not an object: json.loads gives the value or the error
    doc: dict[str, Any] = {}
    rows = None
    first = True
    pos = _skip_space(text, pos + 1)
    while not text.startswith("}", pos):
        if not first:
            if not text.startswith(",", pos):
                raise json.JSONDecodeError("Expecting ',' delimiter", text, pos)
            pos = _skip_space(text, pos + 1)
        first = False
        if not text.startswith('"', pos):
            raise json.JSONDecodeError("Expecting property name in double quotes", text, pos)
        key, pos = _JSON.raw_decode(text, pos)
        pos = _skip_space(text, pos)
        if not text.startswith(":", pos):
            raise json.JSONDecodeError("Expecting ':' delimiter", text, pos)
        pos = _skip_space(text, pos + 1)
        if key == "weights" and text.startswith("[", pos):
            start, count = pos, 0
            closing = _skip_space(text, pos + 1)  # where "]" is when the array is empty
            for count, (_, closing) in enumerate(_array_items(text, start), 1):  # noqa: B007
                pass
            rows = _Rows(text, start, count)
            doc.pop(key, None)
            pos = _skip_space(text, closing + 1)
        else:
            doc[key], pos = _JSON.raw_decode(text, pos)
            pos = _skip_space(text, pos)
            if key == "weights":
                rows = None  # a later member of the same name wins, as in json.loads
    after = _skip_space(text, pos + 1)
    if after != len(text):
        raise json.JSONDecodeError("Extra data", text, after)
    return doc, rows


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
