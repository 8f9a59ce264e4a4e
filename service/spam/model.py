"""The spam model: a hashed-feature logistic regression, its file format, and per-site learning.

* :class:`SpamModel` is the shipped base model (loaded once at start-up with :func:`load_model`).
* :class:`SiteModel` is one site's view: base weights plus a sparse per-site delta learned from
  that site's moderator decisions. ``learn()`` returns an :class:`Update` (the exact sparse
  change) for the service to persist; applying ``update.negated()`` undoes it exactly.

The delta is also the site's memory of link domains: a domain whose ``m:domain=`` weight the
site's decisions have pushed below zero (its moderators approved comments linking there more
than they binned them) is *approved*, and a link to it counts only as that domain and as
"a link to a site this site's moderators approved before" (see ``FeatureExtractor.meta_keys``).

Exactness: every update value is rounded to a multiple of ``QUANTUM`` (2**-20). Sums of such
numbers are exact in IEEE double precision while they stay below 2**33 * QUANTUM (= 8192) in
magnitude, so per-site sums do not depend on the order updates were applied or undone in, and
``apply(u)`` followed by ``apply(u.negated())`` restores the previous weights bit for bit. A
PostgreSQL ``double precision`` or SQLite ``REAL`` column stores the values exactly.
"""

from __future__ import annotations

import gzip
import json
import math
import random
import re
import zlib
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, NamedTuple

from service.spam.features import (
    FeatureConfig,
    FeatureExtractor,
    Features,
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
FORMAT_VERSION = 3  # 3: link kinds, contacts, no length feature, no "url" word
QUANTUM = 2.0**-20
_MAX_DELTA = 4096.0  # per-site weights are clamped here so that sums stay exact (see above)
# Distinct words whose weight sums a model (and each site model) remembers.
WORD_CACHE = 16384

Verdict = Literal["ok", "hold", "spam"]


class ModelError(Exception):
    """The model file is missing, unreadable, corrupt, truncated or of another format version."""


class SpamScore:
    """A score: ``probability``, ``verdict``, and ``top_features``, the strongest reasons as
    ``(reason, contribution)`` pairs, worked out on first use (callers that only need the
    probability do not pay for them)."""

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


class WordWeights(NamedTuple):
    """One word's share of a score: how many unigram and char n-gram slots it touches and the
    sums of their weights."""

    n_words: int
    n_chars: int
    word_sum: float
    char_sum: float


_NO_DELTA = WordWeights(0, 0, 0.0, 0.0)


class _Terms(NamedTuple):
    """A scored comment, kept for its reasons: per distinct word (count, weight sums), per
    bigram and meta key its weight, and the value of one occurrence of each group."""

    words: dict[str, tuple[int, float, float]]
    tokens: list[str]
    pair_weights: list[float]
    meta: list[tuple[str, float]]
    wv: float
    cv: float
    mv: float


@dataclass
class SpamModel:
    """Base model. ``weights`` maps hashed slot -> weight; ``names`` maps slot -> feature key
    (only for inspection and ``dump_model``: the server loads a model without them)."""

    config: FeatureConfig
    weights: dict[int, float]
    bias: float
    hold_threshold: float
    spam_threshold: float
    names: dict[int, str] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    cache_size: int = WORD_CACHE

    def __post_init__(self) -> None:
        self.weights = dict(self.weights)
        self.extractor = FeatureExtractor(self.config, self.cache_size)
        self.word_weights = lru_cache(maxsize=self.cache_size)(self._word_weights)

    def _word_weights(self, tok: str) -> WordWeights:
        slots = self.extractor.word(tok)
        get = self.weights.get
        return WordWeights(
            len(slots.words),
            len(slots.chars),
            sum(get(slot, 0.0) for slot, _ in slots.words),
            sum(get(slot, 0.0) for slot, _ in slots.chars),
        )

    def clear_caches(self) -> None:
        """Forget every per-word result (for benchmarks of the cold path)."""
        self.word_weights.cache_clear()
        self.extractor.clear_caches()

    def features(self, text: str, author_name: str = "", website: str | None = None) -> Features:
        """The explicit feature vector (what training uses)."""
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
        return _score(self, parsed, self.extractor.meta_keys(parsed), None, top)


class _SiteDelta(NamedTuple):
    weights: Mapping[int, float]
    bias: float
    word: Callable[[str], WordWeights]


def _score(
    model: SpamModel,
    parsed: Parsed,
    meta_keys: list[str],
    delta: _SiteDelta | None,
    top: int,
) -> SpamScore:
    """``bias + sum(weight * value)`` over ``extractor.vector(parsed)``, from per-word sums."""
    cfg = model.config
    extractor = model.extractor
    counts = Counter(parsed.tokens)
    words: dict[str, tuple[int, float, float]] = {}
    n_words = len(parsed.tokens)  # one bigram per token
    n_chars = 0
    for tok, count in counts.items():
        base = model.word_weights(tok)
        extra = delta.word(tok) if delta is not None else _NO_DELTA
        n_words += count * base.n_words
        n_chars += count * base.n_chars
        words[tok] = (count, base.word_sum + extra.word_sum, base.char_sum + extra.char_sum)
    weight = model.weights.get
    extra_weight = delta.weights.get if delta is not None else None

    def weight_of(slot: int) -> float:
        w = weight(slot, 0.0)
        return w + extra_weight(slot, 0.0) if extra_weight is not None else w

    pair_weights = [weight_of(slot) for slot in extractor.pair_slots(parsed.tokens)]
    meta = [(key, weight_of(extractor.slot_of(key))) for key in meta_keys]
    wv = cfg.word_scale / math.sqrt(n_words) if n_words else 0.0
    cv = cfg.char_scale / math.sqrt(n_chars) if n_chars else 0.0
    mv = cfg.meta_scale
    z = model.bias + (delta.bias if delta is not None else 0.0)
    z += wv * (sum(c * w for c, w, _ in words.values()) + sum(pair_weights))
    z += cv * sum(c * w for c, _, w in words.values())
    z += mv * sum(w for _, w in meta)
    probability = _sigmoid(z)
    verdict = model.verdict(probability)
    if top <= 0:
        return SpamScore(probability, [], verdict)
    # The pairs' readable keys only for the reasons (they cost a string each).
    terms = _Terms(words, parsed.tokens, pair_weights, meta, wv, cv, mv)
    return SpamScore(probability, None, verdict, lambda: _reasons(terms, verdict, top))


def _reasons(terms: _Terms, verdict: Verdict, top: int) -> list[tuple[str, float]]:
    """The ``top`` strongest contributions in the direction of the verdict: towards spam when
    held, towards ham otherwise. A word's contribution is all its occurrences' and includes
    its spelling (char n-gram) weights; a bigram or meta feature is named once."""
    found: list[tuple[float, str]] = [
        (count * (terms.wv * word + terms.cv * chars), f'word "{tok}"')
        for tok, (count, word, chars) in terms.words.items()
    ]
    pair_keys = [
        f"b:{prev} {tok}" for prev, tok in zip(["<s>", *terms.tokens], terms.tokens, strict=False)
    ]
    found += [
        (terms.wv * w, describe(key)) for key, w in zip(pair_keys, terms.pair_weights, strict=True)
    ]
    found += [(terms.mv * w, describe(key)) for key, w in terms.meta]
    unit = 1.0 if verdict != "ok" else -1.0
    found.sort(key=lambda item: item[0] * unit, reverse=True)
    reasons: list[tuple[str, float]] = []
    for contribution, name in found:
        if contribution * unit <= 0.0 or len(reasons) == top:
            break
        if all(name != seen for seen, _ in reasons):
            reasons.append((name, round(contribution, 4)))
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
    """A site's model: the shared base plus this site's own sparse delta (word, bigram, char
    n-gram and meta slots, and the bias). ``delta`` is copied: the caller's mapping is never
    changed, and SiteModels sharing a base are independent."""

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
        # Per word, this site's delta summed over its slots; emptied by apply().
        self._word_delta: dict[str, WordWeights] = {}
        online = base.meta.get("online", {})
        self.learning_rate = float(
            learning_rate if learning_rate is not None else online.get("learning_rate", 1.0)
        )
        self.bias_rate = float(online.get("bias_rate", 0.0))
        # A legitimate comment wrongly held costs more than spam let through: a ham decision
        # may teach harder than a spam one.
        self.ham_factor = float(online.get("ham_factor", 1.0))
        # Meta features have a larger value than a word's share; their steps are scaled so one
        # decision does not swing every comment of the same shape.
        self.meta_factor = float(online.get("meta_factor", 1.0))
        # Character n-gram steps relative to a word's (spam comes back misspelt).
        self.char_factor = float(online.get("char_factor", 0.0))

    def _delta_of_word(self, tok: str) -> WordWeights:
        cached = self._word_delta.get(tok)
        if cached is None:
            if len(self._word_delta) >= WORD_CACHE:
                self._word_delta.clear()
            slots = self.base.extractor.word(tok)
            get = self.delta.get
            cached = self._word_delta[tok] = WordWeights(
                0,
                0,
                sum(get(slot, 0.0) for slot, _ in slots.words),
                sum(get(slot, 0.0) for slot, _ in slots.chars),
            )
        return cached

    def approved_domains(self, parsed: Parsed) -> frozenset[str]:
        """The comment's link domains this site's decisions have approved (their
        ``m:domain=`` delta is below zero)."""
        slot_of = self.base.extractor.slot_of
        return frozenset(
            link.domain
            for link in parsed.links
            if self.delta.get(slot_of("m:domain=" + link.domain), 0.0) < 0.0
        )

    def _scored(self, parsed: Parsed, top: int) -> tuple[SpamScore, frozenset[str]]:
        approved = self.approved_domains(parsed) if self.delta else frozenset()
        meta_keys = self.base.extractor.meta_keys(parsed, approved)
        delta = _SiteDelta(self.delta, self.bias_delta, self._delta_of_word)
        return _score(self.base, parsed, meta_keys, delta, top), approved

    def score(
        self, text: str, author_name: str = "", website: str | None = None, top: int = 5
    ) -> SpamScore:
        parsed = self.base.extractor.parse(text, author_name, website)
        return self._scored(parsed, top)[0]

    def learn(
        self, text: str, author_name: str = "", website: str | None = None, *, is_spam: bool
    ) -> Update:
        """Learn from one moderator decision: apply it here and return it for persisting.

        One logistic-regression gradient step on this site's weights. Deterministic: the same
        state and comment always give the same update.
        """
        extractor = self.base.extractor
        parsed = extractor.parse(text, author_name, website)
        score, approved = self._scored(parsed, 0)
        g = 1.0 - score.probability if is_spam else -score.probability * self.ham_factor
        cfg = self.base.config
        slots = [extractor.word(tok) for tok in parsed.tokens]
        n_words = len(parsed.tokens) + sum(len(s.words) for s in slots)
        n_chars = sum(len(s.chars) for s in slots)
        wv = cfg.word_scale / math.sqrt(n_words) if n_words else 0.0
        cv = cfg.char_scale / math.sqrt(n_chars) * self.char_factor if n_chars else 0.0
        mv = cfg.meta_scale * self.meta_factor
        values: dict[int, float] = {}

        def add(slot: int, value: float) -> None:
            values[slot] = values.get(slot, 0.0) + value

        for word in slots:
            for slot, _ in word.words:
                add(slot, wv)
            if cv:
                for slot, _ in word.chars:
                    add(slot, cv)
        for slot in extractor.pair_slots(parsed.tokens):
            add(slot, wv)
        for key in extractor.meta_keys(parsed, approved):
            add(extractor.slot_of(key), mv)
        changes: dict[int, float] = {}
        for slot, value in values.items():
            step = _quantize(self.learning_rate * g * value)
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
