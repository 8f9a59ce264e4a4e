"""Features for the spam model, computed from a comment's body, author name and website.

Every feature has a readable *key* (``w:subscribe``, ``b:check out``, ``c:scri``, ``m:links=2``)
that is hashed with a stable hash (CRC-32 of the UTF-8 key, never Python's salted ``hash()``)
into one of ``2**bits`` slots. Keys are kept, so weights stay inspectable and the strongest
contributions can be shown to a moderator as reasons.

Groups (markup is removed first: ``<a href="X">`` becomes the link ``X``, ``<br>`` a line
break, other tags a space, HTML entities are decoded; then the text is NFKC-normalised and
lower-cased; links spelt out with spaces, ``site . com``, are joined; links are replaced by
the word ``url``):

* words: for every word, its unigram ``w:<word>`` (plus a folded form for numbers, e.g.
  ``w:<num5+>``), and for every adjacent pair the bigram ``b:<w1> <w2>`` (``<s>`` starts);
* chars: for every word, its distinct character n-grams ``c:<gram>``, ``char_min``..``char_max``
  long, of the word padded with spaces (scikit-learn's ``char_wb``), first ``max_word_chars``
  characters only;
* meta: binary link/contact and shape signals (URL count, domains, e-mail, phone number,
  money, promotion phrases, length / digit / upper-case classes, ``!!`` runs, ``aaaa``), and the
  author name's and website's shape. Self-promotion phrases ("my channel", "sub to",
  "like this comment", ...) also add up into one shared ``promo=1|2|3+`` feature.

Values: each occurrence of a word or char feature adds ``scale / sqrt(n)`` where ``n`` is the
number of occurrences in its group (a length normalisation); meta features have ``meta_scale``.
Because a word's features do not depend on the rest of the comment, the model caches per word
the sum of its weights, and scoring costs one dictionary lookup per distinct word. Likewise
tokens, links and letter runs never span whitespace, so they are found once per distinct
whitespace-separated chunk (cached) instead of by regular expressions over the whole text.
"""

from __future__ import annotations

import html
import math
import operator
import re
import unicodedata
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache, partial
from itertools import chain, islice
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

__all__ = [
    "FeatureConfig",
    "FeatureExtractor",
    "Features",
    "Memo",
    "describe",
]


@dataclass(frozen=True)
class FeatureConfig:
    """Hashing parameters. They are written into the model file: a model is only valid with
    the exact configuration it was trained with."""

    bits: int = 20
    char_min: int = 3
    char_max: int = 5
    max_word_chars: int = 16
    word_scale: float = 1.0
    char_scale: float = 0.7
    meta_scale: float = 1.5

    def to_json(self) -> dict[str, str | int | float]:
        return {
            "hash": "crc32-utf8",
            "bits": self.bits,
            "char_min": self.char_min,
            "char_max": self.char_max,
            "max_word_chars": self.max_word_chars,
            "word_scale": self.word_scale,
            "char_scale": self.char_scale,
            "meta_scale": self.meta_scale,
        }


@dataclass
class Features:
    """An explicit sparse vector: slot -> value, and slot -> readable key (first key wins)."""

    values: dict[int, float] = field(default_factory=dict)
    keys: dict[int, str] = field(default_factory=dict)

    def add(self, slot: int, key: str, value: float) -> None:
        self.values[slot] = self.values.get(slot, 0.0) + value
        self.keys.setdefault(slot, key)


@dataclass
class Parsed:
    """The comment split into what the features are made of: its word tokens (bigram i is
    ``tokens[i - 1]`` (or ``<s>``) and ``tokens[i]``), its meta features (slot -> key), per
    token what the extractor's ``word_info`` gave (empty without one), and the bigram slots
    (``pairs[i]`` is bigram i's)."""

    tokens: list[str]
    meta: dict[int, str]
    infos: list[Any] = field(default_factory=list)
    pairs: list[int] = field(default_factory=list)

    def pair_key(self, i: int) -> str:
        return "b:" + (self.tokens[i - 1] if i else "<s>") + " " + self.tokens[i]


@dataclass(frozen=True)
class WordSlots:
    """The slots one word touches: unigram (+ folded form) and distinct char n-grams."""

    words: tuple[tuple[int, str], ...]
    chars: tuple[tuple[int, str], ...]


# --- patterns -----------------------------------------------------------------------------

_TLDS = (
    "com|net|org|info|biz|ly|co|io|me|tk|ru|cn|uk|de|in|us|tv|ws|cc|xyz|club|online|site|top|"
    "shop|store|link|click|gl|be|to|fm|nl|pl|fr|es|it|br|au|ca|eu|app|dev|blog|live|pro|win|vip"
)
# Applied to whitespace-separated chunks that contain a dot (much cheaper than scanning text).
_URL_RE = re.compile(
    r"(?:https?://|www\.)\S+"
    r"|[a-z0-9][a-z0-9-]{0,62}(?:\.[a-z0-9-]{1,63})*\.(?:" + _TLDS + r")(?![a-z0-9-])\S*",
)
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# A phone number: "+" or a digit not after a word character, then 7 or more digits, each
# after at most one space, dot or dash, and no word character after. Written to start with a
# character class ([+\d], then look-behinds for the rest of the first step) so that the regex
# engine skips straight to the next "+" or digit instead of trying every position: the same
# matches as (?:\+(?<!\w\+)\d|\d(?<!\w\d))(?:[\s.-]?\d){7,}(?!\w) in about half the time.
_PHONE_RE = re.compile(r"[+\d](?<!\w[+\d])(?:(?<=\+)\d|(?<!\+))(?:[\s.-]?\d){7,}(?!\w)")
_TOKEN_RE = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)?")
_EXCLAIM_RE = re.compile(r"[!?]{2,}")
_REPEAT_RE = re.compile(r"(\w)\1{3,}")
# An amount of money: a currency sign before a number, or a currency word after one. Two
# regular expressions, each starting with a character class the engine can skip to (one
# alternation of both would try every position), each run only if one of its hints is there.
_MONEY_SIGN_RE = re.compile(r"[£$€]\s?\d")
_MONEY_WORD_RE = re.compile(r"\d\s?(?:usd|gbp|eur|pounds?|dollars?)\b")
_MONEY_SIGNS = ("$", "£", "€")
_MONEY_WORDS = ("usd", "gbp", "eur", "pound", "dollar")
_HTML_LINK_RE = re.compile(r"<a\s[^>]*href")
# Comments scraped from HTML pages carry markup and entities (``<br />``, ``&#39;``, ``&quot;``):
# links in anchors are kept as text, other tags become spaces, entities are decoded.
_HREF_RE = re.compile(r"<a\s[^>]{0,400}?href\s*=\s*[\"']?([^\"'\s>]+)[^>]*>", re.IGNORECASE)
_TAG_RE = re.compile(r"</?[a-zA-Z][^<>]{0,400}>")
# A link spelt out to dodge link filters ("site . com", "site. com", "site dot com") is read as
# the link it is. Such text has a chunk that is, or starts, "com"/".com" (net, org): the chunk
# memo notes it, so only those comments pay for the regular expression.
_SPACED_DOMAIN_RE = re.compile(
    r"(?<!\w)([a-z0-9][a-z0-9-]{1,62})(?: ?\. | \.| dot )(com|net|org)\b"
)
_SPELT_TLDS = frozenset(("com", "net", "org"))
_SPELT_DOT_TLDS = frozenset("." + tld for tld in _SPELT_TLDS)
_BR_RE = re.compile(r"<br\s*/?>", re.IGNORECASE)

# Self-promotion and contact phrases (cf. the WRENCH labelling functions for the YouTube set)
# and generic spam vocabulary; each is one binary feature named after the phrase. Matched on
# word tokens and bigrams, so "subscribe" does not fire inside "subscribers".
_PHRASES = frozenset(
    (
        "subscribe",
        "sub",
        "subs",
        "check out",
        "check my",
        "check it",
        "my channel",
        "my video",
        "my videos",
        "my music",
        "my page",
        "my new",
        "visit my",
        "follow me",
        "please like",
        "please share",
        "thumbs up",
        "click here",
        "free",
        "win",
        "winner",
        "prize",
        "claim",
        "call now",
        "offer",
        "cash",
        "earn",
        "make money",
        "casino",
        "viagra",
        "loan",
        "crypto",
        "bitcoin",
        "giveaway",
        "promo",
        "discount",
        "guaranteed",
        "urgent",
    )
)
# Self-promotion on comment sections (YouTube-style): each hit also counts towards one shared
# "promo=N" feature, so evidence from different phrasings adds up.
_PROMO = frozenset(
    (
        "subscribe",
        "subscribed",
        "subscribers",
        "subscriber",
        "sub",
        "subs",
        "check out",
        "check my",
        "check it",
        "check them",
        "check us",
        "check this",
        "my channel",
        "our channel",
        "my video",
        "my videos",
        "my vid",
        "my music",
        "my song",
        "my songs",
        "my track",
        "my new",
        "our new",
        "my page",
        "my blog",
        "my profile",
        "my playlist",
        "my cover",
        "my account",
        "my website",
        "visit my",
        "follow me",
        "add me",
        "look up",
        "please like",
        "please share",
        "please subscribe",
        "please check",
        "please watch",
        "please visit",
        "please help",
        "please support",
        "this comment",
        "like if",
        "thumbs up",
        "check me",
        "sub to",
        "sub me",
        "subscribe to",
        "take a look",
        "share this",
        "click here",
        "go to",
        "watch my",
        "listen to",
    )
)
_PHRASES = _PHRASES | _PROMO
_PHRASE_WORDS = frozenset(p for p in _PHRASES if " " not in p)
# Phrases of several words are found through the comment's bigram slots (which scoring
# computes anyway): a set intersection with the slots of their first two words, then a check
# of the words there (slots can collide).
_PHRASE_PAIRS = tuple(sorted(tuple(p.split()) for p in _PHRASES if " " in p))
_NAME_WORDS = ("official", "channel", "music", "promo", "records")
_DIGIT_BYTES = b"0123456789"
_UPPER_BYTES = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ASCII_BYTES = bytes(range(128))


_PAIR_START = zlib.crc32(b"b:")
_SENTENCE = (zlib.crc32(b"<s> ", _PAIR_START),)
# word_info results (see FeatureExtractor): the word's UTF-8, the CRC-32 of "b:<word> "
_UTF8 = operator.itemgetter(4)
_NEXT = operator.itemgetter(5)


def _stable_hash(key: str) -> int:
    return zlib.crc32(key.encode("utf-8"))


def _bucket(value: float, edges: tuple[float, ...]) -> int:
    for i, edge in enumerate(edges):
        if value < edge:
            return i
    return len(edges)


def _link_keys(url: str) -> tuple[str, ...]:
    dom = _domain(url)
    return ("m:domain=" + dom, "m:tld=" + dom.rsplit(".", 1)[-1]) if dom else ()


def _domain(url: str) -> str:
    candidate = url if "://" in url else "http://" + url
    try:
        host = urlsplit(candidate).hostname or ""
    except ValueError:
        return ""
    if host.startswith("www."):
        host = host[4:]
    parts = host.split(".")
    return ".".join(parts[-2:]) if len(parts) >= 2 else host


# What a whitespace-separated chunk of lower-cased text holds: (per token what the extractor's
# ``word_info`` says of it, or the token itself without one; links; number of links << 40, plus
# 1 << 20 if it may end a spelt-out link ("com/..."), plus 1 if it has a run of four equal word
# characters). The text's tokens and links are the chunks' in order; one sum() over the last
# items counts all three. Most chunks are one word: those skip the regular expressions.
Chunk = tuple[tuple[Any, ...], tuple[str, ...], int]
_ITEMS = operator.itemgetter(0)
_LINKS = operator.itemgetter(1)
_PACKED = operator.itemgetter(2)
_FIRST = operator.itemgetter(0)
_NO_LINKS: tuple[str, ...] = ()


def _chunk(chunk: str, word_info: Callable[[str], Any] | None = None) -> Chunk:
    links = _NO_LINKS
    if chunk.isalnum():  # one token (str.isalnum() is what the token pattern's [^\W_] is)
        tokens: tuple[str, ...] = (chunk,)
    else:
        words = chunk
        if "." in chunk:
            links = tuple(_URL_RE.findall(chunk))
            if links:
                # A link is one word, "url" (its domain is a meta feature).
                words = _URL_RE.sub(" <url> ", chunk)
        tokens = tuple(_TOKEN_RE.findall(words))
    return (
        tuple(map(word_info, tokens)) if word_info is not None else tokens,
        links,
        (len(links) << _LINK_SHIFT)
        + (_may_end_spelt_link(chunk) << _SPELT_SHIFT)
        + (len(chunk) >= 4 and _REPEAT_RE.search(chunk) is not None),
    )


# Bit fields of the packed sum: each count has 20 bits, more than a comment has chunks.
_SPELT_SHIFT = 20
_LINK_SHIFT = 40
_REPEATS = (1 << _SPELT_SHIFT) - 1
_SPELTS = ((1 << _LINK_SHIFT) - 1) ^ _REPEATS


def _may_end_spelt_link(chunk: str) -> bool:
    """``com``, ``com/path``, ``.com`` ... but not ``come`` or ``.company``."""
    head = 4 if chunk.startswith(".") else 3
    return chunk[:head] in (_SPELT_DOT_TLDS if head == 4 else _SPELT_TLDS) and (
        len(chunk) == head or not chunk[head].isalnum()
    )


_K = TypeVar("_K")
_V = TypeVar("_V")


class Memo(dict[_K, _V], Generic[_K, _V]):
    """``memo[key]`` is ``compute(key)``, remembered; when it holds ``maxsize`` entries the
    older half (in insertion order) is dropped.

    A plain dict hit (no LRU bookkeeping) is what keeps the per-word and per-chunk lookups
    cheap; dropping half at once instead of evicting one by one keeps a miss cheap too, and
    the newer half (frequent words come back soon) keeps the cache warm after the drop.
    """

    def __init__(self, compute: Callable[[_K], _V], maxsize: int) -> None:
        super().__init__()
        self.compute = compute
        self.maxsize = maxsize

    def __missing__(self, key: _K) -> _V:
        if len(self) >= self.maxsize:
            for old in list(islice(self, len(self) // 2 or 1)):
                del self[old]
        value = self[key] = self.compute(key)
        return value


def _count_upper(text: str, ascii_bytes: bytes) -> int:
    """``sum(map(str.isupper, text))`` without a call per character (``ascii_bytes`` is
    ``text.encode("ascii", "ignore")``)."""
    n = len(ascii_bytes) - len(ascii_bytes.translate(None, _UPPER_BYTES))
    if len(ascii_bytes) != len(text):
        # The other characters, in C: UTF-8 without its ASCII bytes is the UTF-8 of exactly
        # the non-ASCII characters (no byte of a multi-byte sequence is below 0x80).
        utf8 = text.encode("utf-8", "surrogatepass")  # a lone surrogate from JSON too
        others = utf8.translate(None, _ASCII_BYTES).decode("utf-8", "surrogatepass")
        n += sum(map(str.isupper, others))
    return n


def find_urls(lowered: str) -> list[str]:
    """Links in lower-cased text: with a scheme, starting www., or a bare domain (site.com)."""
    if "." not in lowered:
        return []
    found: list[str] = []
    for chunk in lowered.split():
        if "." in chunk:
            found.extend(_URL_RE.findall(chunk))
    return found


def _fold_token(tok: str) -> str | None:
    """A coarser form of the token, or None. Numbers become their length class."""
    if tok.isdigit():
        n = len(tok)
        return "<num>" if n <= 2 else ("<num3-4>" if n <= 4 else "<num5+>")
    if not tok.isalpha():
        return "<alnum>"
    return None


class FeatureExtractor:
    """Turns (body, author name, website) into a :class:`Features` vector.

    Per-word work (unigram and char n-gram hashing) is cached in a bounded LRU cache, so
    recurring vocabulary costs one dictionary lookup.
    """

    def __init__(
        self,
        config: FeatureConfig | None = None,
        cache_size: int = 65536,
        word_info: Callable[[str], Any] | None = None,
    ) -> None:
        self.config = config or FeatureConfig()
        self.mask = (1 << self.config.bits) - 1
        # A word's slots hold every character n-gram with its key (a few KB a word): scoring
        # remembers per-word weight sums instead (SpamModel), so this cache only has to serve
        # repeats within a comment and learning (1,024 words: ~4 MB; 4,096 held ~9 MB more of a
        # worker after 3,000 posts, for no scoring gain). Full at 65,536 words: ~200 MB.
        self.word: Callable[[str], WordSlots] = lru_cache(maxsize=min(cache_size, 1024))(
            self._word_slots
        )
        # Whitespace-separated chunks. ``word_info`` (the scoring model's per-word weight sums)
        # is looked up once per token when a chunk is first seen and kept with it instead of
        # the token: a parsed comment carries it per token. It must return a tuple whose item
        # 0 is the token itself, item 4 its UTF-8 and item 5 the CRC-32 of ``b:<token> ``.
        self.word_info = word_info
        chunk = _chunk if word_info is None else partial(_chunk, word_info=word_info)
        # Chunk entries are small (the per-token tuples are the word memo's own), and there
        # are more distinct chunks than words, so the memo is as large as the word cache.
        self._chunks: Memo[str, Chunk] = Memo(chunk, max(cache_size, 1024))
        self.chunk: Callable[[str], Chunk] = self._chunks.__getitem__
        # Meta feature key ("m:links=1") -> slot; domains make the set open-ended, so bounded.
        self._meta_slots: Memo[str, int] = Memo(self.slot, 4096)
        self._link_keys: Memo[str, tuple[str, ...]] = Memo(_link_keys, 4096)

        # bigram slot -> the two-word phrases hashed there
        self._phrase_pairs: dict[int, list[tuple[str, ...]]] = {}
        for words in _PHRASE_PAIRS:
            slot = self.slot("b:" + words[0] + " " + words[1])
            self._phrase_pairs.setdefault(slot, []).append(words)
        self._phrase_pair_slots = frozenset(self._phrase_pairs)

    def slot(self, key: str) -> int:
        return _stable_hash(key) & self.mask

    def _word_slots(self, tok: str) -> WordSlots:
        cfg = self.config
        words = [("w:" + tok)]
        folded = _fold_token(tok)
        if folded is not None:
            words.append("w:" + folded)
        padded = " " + tok[: cfg.max_word_chars] + " "
        length = len(padded)
        grams = [
            padded[i : i + n]
            for n in range(cfg.char_min, min(cfg.char_max, length) + 1)
            for i in range(length - n + 1)
        ]
        chars = list(dict.fromkeys(map("c:".__add__, grams)))  # distinct, first-seen order
        return WordSlots(
            tuple(zip(self._slots(words), words, strict=True)),
            tuple(zip(self._slots(chars), chars, strict=True)),
        )

    def _slots(self, keys: list[str]) -> list[int]:
        return list(map(self.mask.__and__, map(zlib.crc32, map(str.encode, keys))))

    def pair_slots(self, tokens: list[str]) -> list[int]:
        """Slot of each bigram ``b:<previous> <word>`` (``<s>`` before the first word)."""
        if not tokens:
            return []
        # Tokens hold no spaces: encode them all at once and split the bytes again.
        utf8 = " ".join(tokens).encode("utf-8").split(b" ")
        crc32 = zlib.crc32
        join = b" ".join
        start = _PAIR_START
        mask = self.mask
        return [
            crc32(join(pair), start) & mask for pair in zip([b"<s>", *utf8], utf8, strict=False)
        ]

    def info_pair_slots(self, infos: list[Any]) -> list[int]:
        """``pair_slots(tokens)`` from ``word_info`` results: item 4 is the word's UTF-8 and
        item 5 the CRC-32 of ``b:<word> ``, so each slot is one ``crc32()`` call."""
        crcs = map(zlib.crc32, map(_UTF8, infos), chain(_SENTENCE, map(_NEXT, infos)))
        return list(map(self.mask.__and__, crcs))

    def _pair_phrases(self, hits: frozenset[int], tokens: list[str], pairs: list[int]) -> list[str]:
        """The phrases of several words that start at bigrams whose slots are ``hits``, sorted
        (bigram ``i`` is ``tokens[i - 1]`` and ``tokens[i]``; bigram 0 starts with ``<s>``)."""
        starts = [i for i, slot in enumerate(pairs) if i and slot in hits]
        return sorted(
            " ".join(words)
            for slot in hits
            for words in self._phrase_pairs[slot]
            if any(
                pairs[i] == slot and tuple(tokens[i - 1 : i - 1 + len(words)]) == words
                for i in starts
            )
        )

    def clear_caches(self) -> None:
        self.word.cache_clear()  # type: ignore[attr-defined]
        self._chunks.clear()
        self._meta_slots.clear()
        self._link_keys.clear()

    def parse(self, body: str, author_name: str = "", website: str | None = None) -> Parsed:
        html_link = False
        if "<" in body and ">" in body:
            html_link = _HTML_LINK_RE.search(body.lower()) is not None
            body = _TAG_RE.sub(" ", _HREF_RE.sub(r" \1 ", _BR_RE.sub("\n", body)))
        if "&" in body and ";" in body:
            body = html.unescape(body)
        text = body if body.isascii() else unicodedata.normalize("NFKC", body)
        lowered = text.lower()
        keys: list[str] = []  # meta feature keys, "m:..."
        add_meta = keys.append

        # Tokens (links replaced by "url"), links and letter runs per whitespace-separated chunk.
        chunks = list(map(self.chunk, lowered.split()))
        packed = sum(map(_PACKED, chunks))
        if packed & _SPELTS:
            joined = _SPACED_DOMAIN_RE.sub(r"\1.\2", lowered)
            if joined != lowered:
                lowered = joined
                chunks = list(map(self.chunk, lowered.split()))
                packed = sum(map(_PACKED, chunks))
        if self.word_info is None:
            infos: list[Any] = []
            tokens = list(chain.from_iterable(map(_ITEMS, chunks)))
            pairs = self.pair_slots(tokens)
        else:
            infos = list(chain.from_iterable(map(_ITEMS, chunks)))
            tokens = list(map(_FIRST, infos))
            pairs = self.info_pair_slots(infos)
        if packed >> _LINK_SHIFT:
            urls = list(chain.from_iterable(map(_LINKS, chunks)))
            n_urls = len(urls)
            add_meta("m:links=" + (str(n_urls) if n_urls < 3 else "3+"))
            keys.extend(chain.from_iterable(map(self._link_keys.__getitem__, urls[:5])))
            if "://" in lowered:
                add_meta("m:url-scheme")
        if html_link:
            add_meta("m:html-link")
        if "@" in lowered and _EMAIL_RE.search(lowered):
            add_meta("m:email")
        n_chars = len(text)
        ascii_text = text.encode("ascii", "ignore")
        digits = len(ascii_text) - len(ascii_text.translate(None, _DIGIT_BYTES))
        if digits >= 8 and _PHONE_RE.search(lowered):
            add_meta("m:phone")
        if digits and (
            (any(map(lowered.__contains__, _MONEY_SIGNS)) and _MONEY_SIGN_RE.search(lowered))
            or (any(map(lowered.__contains__, _MONEY_WORDS)) and _MONEY_WORD_RE.search(lowered))
        ):
            add_meta("m:money")

        # shape
        add_meta("m:len=" + str(_bucket(n_chars, (16, 32, 64, 128, 256, 512, 1024))))
        if n_chars:
            add_meta("m:digits=" + str(_bucket(digits / n_chars, (0.001, 0.05, 0.15))))
        if ("!!" in text or "??" in text or "!?" in text or "?!" in text) and _EXCLAIM_RE.search(
            text
        ):
            add_meta("m:exclaim-run")
        if packed & _REPEATS:
            add_meta("m:repeated-chars")
        if "\n" in text:
            add_meta("m:multiline")

        # author name and website (shape only: names are personal data, not vocabulary)
        if author_name:
            name = author_name.strip().lower()
            if any(ch.isdigit() for ch in name):
                add_meta("m:author-digits")
            if find_urls(name):
                add_meta("m:author-link")
            if any(w in name for w in _NAME_WORDS):
                add_meta("m:author-promo-word")
        if website:
            add_meta("m:website")
            dom = _domain(website.strip().lower())
            if dom:
                add_meta("m:website-tld=" + dom.rsplit(".", 1)[-1])

        # words: upper-case share and phrases
        if tokens:
            letters = sum(map(len, tokens))
            if letters >= 8:
                upper = _count_upper(text, ascii_text)
                add_meta("m:upper=" + str(_bucket(upper / letters, (0.05, 0.2, 0.5, 0.8))))
            promo = 0
            for phrase in sorted(_PHRASE_WORDS.intersection(tokens)):  # not set order: hash seed
                add_meta("m:phrase=" + phrase)
                promo += phrase in _PROMO
            hits = self._phrase_pair_slots.intersection(pairs)
            if hits:
                for phrase in self._pair_phrases(hits, tokens, pairs):
                    add_meta("m:phrase=" + phrase)
                    promo += phrase in _PROMO
            if promo:
                add_meta("m:promo=" + (str(promo) if promo < 3 else "3+"))
        # A later key with the same slot wins the name; the slot counts once (binary).
        meta = dict(zip(map(self._meta_slots.__getitem__, keys), keys, strict=True))
        return Parsed(tokens, meta, infos, pairs)

    def scales(self, parsed: Parsed) -> tuple[float, float, float]:
        """Value of one occurrence of a word-group, char-group and meta feature."""
        cfg = self.config
        word = self.word
        n_words = len(parsed.tokens)  # one bigram per token
        n_chars = 0
        for tok in parsed.tokens:
            slots = word(tok)
            n_words += len(slots.words)
            n_chars += len(slots.chars)
        return (
            cfg.word_scale / math.sqrt(n_words) if n_words else 0.0,
            cfg.char_scale / math.sqrt(n_chars) if n_chars else 0.0,
            cfg.meta_scale,
        )

    def extract(self, body: str, author_name: str = "", website: str | None = None) -> Features:
        """The explicit vector (for training and learning; scoring uses a faster path)."""
        parsed = self.parse(body, author_name, website)
        return self.vector(parsed)

    def vector(self, parsed: Parsed) -> Features:
        wv, cv, mv = self.scales(parsed)
        feats = Features()
        add = feats.add
        for tok in parsed.tokens:
            slots = self.word(tok)
            for slot, key in slots.words:
                add(slot, key, wv)
            for slot, key in slots.chars:
                add(slot, key, cv)
        for i, slot in enumerate(parsed.pairs or self.pair_slots(parsed.tokens)):
            add(slot, parsed.pair_key(i), wv)
        for slot, key in parsed.meta.items():
            add(slot, key, mv)
        return feats


def describe(key: str) -> str:
    """A moderator-readable name for a feature key (remembered: keys recur)."""
    return _described[key]


def _describe(key: str) -> str:
    kind, _, rest = key.partition(":")
    if kind == "w":
        if rest.startswith("<"):
            return {
                "<url>": "contains a link",
                "<num>": "a short number",
                "<num3-4>": "a 3-4 digit number",
                "<num5+>": "a long number (5+ digits)",
                "<alnum>": "a word mixing letters and digits",
            }.get(rest, rest)
        return f'word "{rest}"'
    if kind == "b":
        first, _, second = rest.partition(" ")
        if first == "<s>":
            return f'starts with "{second}"'
        return f'words "{rest}"'
    if kind == "c":
        return f'letters "{rest.strip()}"'
    if kind == "m":
        name, _, value = rest.partition("=")
        if name == "links":
            return (
                "no links" if value == "0" else f"has {value} link" + ("" if value == "1" else "s")
            )
        return {
            "domain": f"links to {value}",
            "tld": f"link domain ends .{value}",
            "url-scheme": "full http(s) address",
            "html-link": "HTML link",
            "email": "contains an e-mail address",
            "phone": "contains a phone number",
            "money": "mentions money",
            "phrase": f'phrase "{value}"',
            "promo": f"{value} self-promotion phrase" + ("" if value == "1" else "s"),
            "len": f"length class {value}",
            "upper": f"upper-case share class {value}",
            "digits": f"digit share class {value}",
            "exclaim-run": "runs of !! or ??",
            "repeated-chars": "repeated letters (aaaa)",
            "multiline": "several lines",
            "author-digits": "author name has digits",
            "author-link": "author name contains a link",
            "author-promo-word": "author name looks promotional",
            "website": "gave a website",
            "website-tld": f"website ends .{value}",
        }.get(name, rest)
    return key


_described: Memo[str, str] = Memo(_describe, 4096)
