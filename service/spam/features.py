"""Features for the spam model, computed from a comment's body, author name and website.

Every feature has a readable *key* (``w:subscribe``, ``b:check out``, ``c:scri``,
``m:link=shortener``) hashed with a stable hash (CRC-32 of the UTF-8 key, never Python's salted
``hash()``) into one of ``2**bits`` slots. Keys are kept, so weights stay inspectable and the
strongest contributions can be shown to a moderator as reasons.

The text is cleaned first (``<a href="X">`` becomes the link ``X``, other tags a space, HTML
entities decoded, invisible zero-width characters dropped, NFKC, lower case), then:

* words: every word's unigram ``w:<word>`` (numbers also as ``w:<num5+>`` etc.) and every
  adjacent pair ``b:<w1> <w2>`` (``<s>`` starts the text); links count as the word ``url``;
* chars: each word's distinct character 3-5-grams ``c:<gram>`` (of the word padded with spaces,
  its first ``max_word_chars`` characters), so misspellings share evidence;
* meta: what a link is (``m:link=shortener|messenger|reference|social|other``, its domain and,
  for unknown sites, its top-level domain), contact details (phone number, e-mail, a messenger
  app named next to a handle or number, crypto wallet address), money, self-promotion phrases,
  upper-case share, ``!!`` runs, ``aaaa``, and the author name's and website's shape.

There is deliberately no length feature and no "has a link" feature on its own: a long argued
comment is not evidence of spam, and a link weighs what its kind and domain weigh.

Hostile input: every regular expression below either starts at a single character class and
consumes what it matched (possessive quantifiers, so no backtracking) or is bounded, and each
stage looks at a bounded amount of text (:data:`MAX_TEXT` characters of the body, the first
:data:`MAX_CHUNK` characters of a whitespace-separated chunk for links and contacts), so
extraction is linear in the length of the text.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
import zlib
from dataclasses import dataclass, field
from functools import lru_cache

__all__ = [
    "MAX_TEXT",
    "FeatureConfig",
    "FeatureExtractor",
    "Features",
    "Link",
    "Parsed",
    "clean_text",
    "describe",
    "find_links",
    "registered_domain",
]

# A body longer than this is read as its first MAX_HEAD and last MAX_TAIL characters: spam
# puts its link or number at either end, and nothing legitimate needs more to be judged.
MAX_TEXT = 6000
MAX_HEAD = 4500
MAX_TAIL = 1500
# Link, e-mail, phone and wallet scanners look at most this much of one chunk.
MAX_CHUNK = 512


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


@dataclass(frozen=True)
class Link:
    """A link found in the text: its registered domain (``bbc.co.uk``) and its kind."""

    domain: str
    kind: str


@dataclass
class Parsed:
    """A comment split into what its features are made of: word tokens, links, and the other
    meta feature keys (sorted). The link keys are added by :meth:`FeatureExtractor.meta_keys`,
    which knows which domains a site's moderators have approved."""

    tokens: list[str]
    links: list[Link]
    meta: list[str]


_TRAILING = ".,;:!?)]}\"'"


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# --- patterns (each one linear: see the module docstring) ----------------------------------

_BR_RE = re.compile(r"<br\s*+/?>", re.IGNORECASE)
# An anchor's link is kept as text. Bounded and possessive: a "<a" without its ">" costs at
# most the distance to the next "<".
_HREF_RE = re.compile(
    r"<a\s[^<>]{0,400}?href\s*+=\s*+[\"']?([^\"'\s<>]{1,2000}+)[^<>]{0,400}+>", re.IGNORECASE
)
_TAG_RE = re.compile(r"</?[a-zA-Z][^<>]{0,400}+>")
# Invisible characters used to split words past filters (not U+200D, which joins emoji).
_INVISIBLE = ("\u200b", "\u200c", "\u2060", "\ufeff", "\u00ad")
_TOKEN_RE = re.compile(r"[^\W_]++(?:['\u2019][^\W_]++)?")
# A link: a scheme or "www." and what follows up to a space or a closing bracket/quote; or a
# run of dot-separated host labels (starting where a label starts, so every position is tried
# once) with an optional path. The run's last label is checked against _TLDS in Python.
_LINK_RE = re.compile(
    r"(?:https?://|www\.)[^\s<>\"'()\[\]{}]++"
    r"|(?<![a-z0-9.-])[a-z0-9-]++(?:\.[a-z0-9-]++)++(?:/[^\s<>\"'()\[\]{}]*+)?"
)
_TLDS = _words(
    "com net org info biz ly co io me tk ru cn uk de in us tv ws cc xyz club online site top "
    "shop store link click gl be to fm nl pl fr es it br au ca eu app dev blog live pro win vip "
    "gov edu mil int ai gg sh so ch se no fi dk at jp kr nz za ie ua id ph pk ng ke "
    "bet casino porn sex xxx loan money finance trade"
)
# A link spelt out to dodge link filters ("site . com", "site dot com") is read as the link.
_SPELT_LINK_RE = re.compile(r"(?<!\w)([a-z0-9][a-z0-9-]{1,62}+)(?: ?\. | \.| dot )(com|net|org)\b")
_EMAIL_RE = re.compile(r"[\w.+-]{1,64}+@[\w-]{1,63}+(?:\.[\w-]{1,63}+)++")
# A phone number: a "+", "(" or digit, then digits and separators; the digits are counted in
# Python (9 to 15: "2012-2016" and prices are not phone numbers).
_PHONE_RE = re.compile(r"[+(]?+\d[\d ().\u2013-]*+")
_WALLET_RE = re.compile(r"0x[0-9a-f]{40}|(?:bc1|[13])[a-z0-9]{25,59}")
_MONEY_RE = re.compile(r"[$£€]\s?+\d|\d\s?+(?:usd|gbp|eur|pounds?|dollars?|btc|usdt|eth)\b")
_EXCLAIM_RE = re.compile(r"[!?]{2}")
_REPEAT_RE = re.compile(r"(\w)\1{3}")
_HANDLE_RE = re.compile(r"@[a-z0-9_]{2,30}+")

SHORTENERS = _words(
    "bit.ly tinyurl.com goo.gl t.co ow.ly is.gd buff.ly cutt.ly rb.gy shorturl.at tiny.cc "
    "rebrand.ly bl.ink lnkd.in s.id shorte.st adf.ly linktr.ee bitly.com v.gd t.ly"
)
MESSENGERS = _words(
    "wa.me whatsapp.com t.me telegram.me telegram.org m.me discord.gg signal.me line.me "
    "kik.me viber.com wechat.com snapchat.com"
)
# Sites a legitimate comment cites: encyclopaedias, code hosts, standards, papers, public
# bodies, news. What a link to them weighs is still learnt (this only names their kind).
REFERENCES = _words(
    "wikipedia.org wikimedia.org wiktionary.org github.com gitlab.com bitbucket.org "
    "stackoverflow.com stackexchange.com serverfault.com superuser.com askubuntu.com "
    "python.org r-project.org rust-lang.org mozilla.org w3.org ietf.org readthedocs.io "
    "doi.org arxiv.org archive.org jstor.org nature.com sciencedirect.com ncbi.nlm.nih.gov "
    "nih.gov who.int europa.eu un.org oecd.org worldbank.org imf.org eff.org "
    "nytimes.com washingtonpost.com wsj.com bbc.co.uk bbc.com theguardian.com reuters.com "
    "apnews.com npr.org economist.com ft.com bloomberg.com cbc.ca theglobeandmail.com "
    "thestar.com nationalpost.com statcan.gc.ca canada.ca cnn.com latimes.com "
    "theatlantic.com newyorker.com politico.com aljazeera.com dw.com lemonde.fr spiegel.de "
    "cardano.org ethereum.org bitcoin.org docs.google.com"
)
SOCIAL = _words(
    "youtube.com youtu.be facebook.com fb.com instagram.com twitter.com x.com tiktok.com "
    "reddit.com linkedin.com pinterest.com imgur.com soundcloud.com twitch.tv medium.com "
    "blogspot.com wordpress.com tumblr.com"
)
_REFERENCE_TLDS = frozenset(("gov", "edu", "mil", "int"))
_SECOND_LEVEL = frozenset(("co", "com", "org", "net", "ac", "gov", "edu", "gc", "nic"))
# Messenger apps named in words ("WhatsApp +1 213 ...", "telegram @name").
_APPS = frozenset(
    ("whatsapp", "whatsap", "telegram", "signal", "wechat", "viber", "kik", "snapchat", "wickr")
)

# Self-promotion and contact phrases of several words (single words are plain word features);
# each is one binary feature, and together they count into "m:promo=N".
_PHRASES = frozenset(
    (
        "check out",
        "check my",
        "check me",
        "my channel",
        "my video",
        "my videos",
        "my music",
        "my page",
        "my blog",
        "my website",
        "my profile",
        "visit my",
        "follow me",
        "sub to",
        "subscribe to",
        "please subscribe",
        "please like",
        "please share",
        "like this comment",
        "thumbs up if",
        "click here",
        "call now",
        "toll free",
        "support number",
        "phone number",
        "customer service",
        "customer support",
        "help desk",
        "contact him",
        "contact her",
        "reach out",
        "message him",
        "dm me",
        "inbox me",
        "make money",
        "earn money",
        "work from home",
        "financial freedom",
        "investment platform",
        "recover my",
        "recovery expert",
        "passive income",
        "free gift",
        "limited offer",
    )
)
_PHRASE_STARTS = frozenset(p.split()[0] for p in _PHRASES)
_PHRASE_MAX = max(len(p.split()) for p in _PHRASES)
_NAME_WORDS = ("official", "channel", "music", "promo", "records", "support", "crypto")


def _stable_hash(key: str) -> int:
    return zlib.crc32(key.encode("utf-8"))


def _bucket(value: float, edges: tuple[float, ...]) -> int:
    for i, edge in enumerate(edges):
        if value < edge:
            return i
    return len(edges)


def clean_text(body: str) -> str:
    """The text as features see it: markup removed (anchors become their link), entities
    decoded, invisible characters dropped, NFKC, lower case; at most MAX_TEXT characters."""
    if len(body) > MAX_TEXT:
        body = body[:MAX_HEAD] + "\n" + body[-MAX_TAIL:]
    if "<" in body:
        body = _BR_RE.sub("\n", body)
        body = _HREF_RE.sub(r" \1 ", body)
        body = _TAG_RE.sub(" ", body)
    if "&" in body:
        body = html.unescape(body)
    if not body.isascii():
        for invisible in _INVISIBLE:
            if invisible in body:
                body = body.replace(invisible, "")
        body = unicodedata.normalize("NFKC", body)
    return body.lower()


def registered_domain(host: str) -> str:
    """``news.bbc.co.uk`` -> ``bbc.co.uk``, ``www.example.org`` -> ``example.org``."""
    labels = [label for label in host.strip(".").split(".") if label]
    if len(labels) < 2:
        return ""
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def _host_of(link: str) -> str:
    if "://" in link:
        link = link.split("://", 1)[1]
    host = link.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    host = host.rsplit("@", 1)[-1].split(":", 1)[0]
    return host.strip(".-")


def link_kind(domain: str) -> str:
    if domain in SHORTENERS:
        return "shortener"
    if domain in MESSENGERS:
        return "messenger"
    tld = domain.rsplit(".", 1)[-1]
    if (
        domain in REFERENCES
        or tld in _REFERENCE_TLDS
        or any(part in _REFERENCE_TLDS for part in domain.split(".")[-3:-1])
    ):
        return "reference"
    if domain in SOCIAL:
        return "social"
    return "other"


def find_links(chunk: str) -> list[Link]:
    """The links in one lower-cased whitespace-free chunk (its first MAX_CHUNK characters)."""
    links: list[Link] = []
    for match in _LINK_RE.finditer(chunk[:MAX_CHUNK]):
        text = match.group()
        host = _host_of(text)
        if not (text.startswith(("http", "www.")) or host.rsplit(".", 1)[-1] in _TLDS):
            continue  # "a.b", "e.g", "3.14": a run of labels that is not a web address
        domain = registered_domain(host)
        if domain:
            links.append(Link(domain, link_kind(domain)))
    return links


def _phone_in(text: str) -> bool:
    for match in _PHONE_RE.finditer(text):
        start = match.start()
        if start and text[start - 1].isalnum():
            continue  # inside a word: an id or a hash, not a number to call
        digits = sum(ch.isdigit() for ch in match.group())
        if 9 <= digits <= 15:
            return True
    return False


def _fold_token(tok: str) -> str | None:
    """A coarser form of the token, or None. Numbers become their length class."""
    if tok.isdigit():
        n = len(tok)
        return "<num>" if n <= 2 else ("<num3-4>" if n <= 4 else "<num5+>")
    if not tok.isalpha():
        return "<alnum>"
    return None


@dataclass(frozen=True)
class WordSlots:
    """The slots one word touches: its unigram (and folded form) and its distinct char n-grams."""

    words: tuple[tuple[int, str], ...]
    chars: tuple[tuple[int, str], ...]


class FeatureExtractor:
    """Turns (body, author name, website) into a :class:`Parsed` comment and a
    :class:`Features` vector. Per-word slots are cached (words recur)."""

    def __init__(self, config: FeatureConfig | None = None, cache_size: int = 16384) -> None:
        self.config = config or FeatureConfig()
        self.mask = (1 << self.config.bits) - 1
        self.word = lru_cache(maxsize=cache_size)(self._word_slots)
        self.slot_of = lru_cache(maxsize=8192)(self.slot)
        self.pair_slot = lru_cache(maxsize=4 * cache_size)(self._pair_slot)

    def slot(self, key: str) -> int:
        return _stable_hash(key) & self.mask

    def clear_caches(self) -> None:
        self.word.cache_clear()
        self.slot_of.cache_clear()
        self.pair_slot.cache_clear()

    def _word_slots(self, tok: str) -> WordSlots:
        cfg = self.config
        words = ["w:" + tok]
        folded = _fold_token(tok)
        if folded is not None:
            words.append("w:" + folded)
        padded = " " + tok[: cfg.max_word_chars] + " "
        grams = [
            padded[i : i + n]
            for n in range(cfg.char_min, min(cfg.char_max, len(padded)) + 1)
            for i in range(len(padded) - n + 1)
        ]
        chars = list(dict.fromkeys("c:" + gram for gram in grams))  # distinct, in order
        return WordSlots(
            tuple((self.slot(key), key) for key in words),
            tuple((self.slot(key), key) for key in chars),
        )

    def _pair_slot(self, prev: str, tok: str) -> int:
        return self.slot(f"b:{prev} {tok}")

    def pair_slots(self, tokens: list[str]) -> list[int]:
        """The slot of each word pair (the same order as :meth:`pair_keys`)."""
        pair_slot = self.pair_slot
        return [pair_slot(prev, tok) for prev, tok in zip(["<s>", *tokens], tokens, strict=False)]

    def pair_keys(self, tokens: list[str]) -> list[str]:
        return [f"b:{prev} {tok}" for prev, tok in zip(["<s>", *tokens], tokens, strict=False)]

    def parse(self, body: str, author_name: str = "", website: str | None = None) -> Parsed:
        text = clean_text(body)
        if ("com" in text or "net" in text or "org" in text) and (
            " ." in text or " dot " in text or ". " in text
        ):
            text = _SPELT_LINK_RE.sub(r"\1.\2", text)
        meta: set[str] = set()
        links: list[Link] = []
        words: list[str] = []
        handles = 0
        for chunk in text.split():
            if "@" in chunk:
                if _EMAIL_RE.search(chunk[:MAX_CHUNK]):
                    meta.add("m:email")
                    continue  # an address, not words or a link
                if _HANDLE_RE.match(chunk):
                    handles += 1
            found = find_links(chunk) if "." in chunk.rstrip(_TRAILING) else []
            if found:
                # The chunk is a link: it weighs what its kind and domain weigh (no "url" word,
                # which would make any link evidence by itself).
                links.extend(found)
                continue
            if len(chunk) >= 26 and _WALLET_RE.fullmatch(chunk.strip(".,;:!?()[]\"'")[:64]):
                meta.add("m:wallet")
            words.append(chunk)
        tokens = _TOKEN_RE.findall(" ".join(words))
        has_phone = _phone_in(text)
        if has_phone:
            meta.add("m:phone")
        if _MONEY_RE.search(text):
            meta.add("m:money")
        if handles:
            meta.add("m:handle")
        apps = _APPS.intersection(tokens)
        if apps:
            meta.add("m:messenger-app")
            if handles or has_phone or any(link.kind == "messenger" for link in links):
                meta.add("m:messenger-contact")
        if _EXCLAIM_RE.search(text):
            meta.add("m:exclaim-run")
        if _REPEAT_RE.search(text):
            meta.add("m:repeated-chars")
        letters = sum(map(len, tokens))
        if letters >= 8:
            upper = sum(map(str.isupper, body[:MAX_TEXT]))
            meta.add("m:upper=" + str(_bucket(upper / letters, (0.05, 0.2, 0.5, 0.8))))
        promo = 0
        for phrase in self._phrases(tokens):
            meta.add("m:phrase=" + phrase)
            promo += 1
        if promo:
            meta.add("m:promo=" + (str(promo) if promo < 3 else "3+"))
        # author name and website (shape only: names are personal data, not vocabulary)
        name = author_name.strip().lower()[:200]
        if name:
            if any(ch.isdigit() for ch in name):
                meta.add("m:author-digits")
            if any(find_links(part) for part in name.split() if "." in part):
                meta.add("m:author-link")
            if any(w in name for w in _NAME_WORDS):
                meta.add("m:author-promo-word")
        if website:
            meta.add("m:website")
            domain = registered_domain(_host_of(website.strip().lower()[:MAX_CHUNK]))
            if domain:
                meta.add("m:website-kind=" + link_kind(domain))
        return Parsed(tokens, links, sorted(meta))

    @staticmethod
    def _phrases(tokens: list[str]) -> list[str]:
        found = set()
        for i, tok in enumerate(tokens):
            if tok in _PHRASE_STARTS:
                for n in range(2, _PHRASE_MAX + 1):
                    phrase = " ".join(tokens[i : i + n])
                    if phrase in _PHRASES:
                        found.add(phrase)
        return sorted(found)

    @staticmethod
    def meta_keys(parsed: Parsed, approved: frozenset[str] = frozenset()) -> list[str]:
        """All meta keys of a parsed comment. A link to a domain in ``approved`` (the site's
        moderators approved comments linking there) counts only as that domain and as
        ``m:link=approved``: its kind, top-level domain and the link count are left out."""
        keys = list(parsed.meta)
        count = 0
        for link in parsed.links[:8]:
            keys.append("m:domain=" + link.domain)
            if link.domain in approved:
                keys.append("m:link=approved")
                continue
            count += 1
            keys.append("m:link=" + link.kind)
            if link.kind == "other":
                keys.append("m:tld=" + link.domain.rsplit(".", 1)[-1])
        if count >= 2:
            keys.append("m:links=" + ("2" if count == 2 else "3+"))
        return sorted(set(keys))

    def vector(self, parsed: Parsed, approved: frozenset[str] = frozenset()) -> Features:
        """The explicit feature vector: each word-group feature occurrence adds
        ``word_scale / sqrt(n)`` (n: unigram and bigram occurrences), each char n-gram
        ``char_scale / sqrt(m)`` (m: n-gram occurrences), each meta feature ``meta_scale``."""
        cfg = self.config
        slots = [self.word(tok) for tok in parsed.tokens]
        n_words = len(parsed.tokens) + sum(len(s.words) for s in slots)
        n_chars = sum(len(s.chars) for s in slots)
        wv = cfg.word_scale / math.sqrt(n_words) if n_words else 0.0
        cv = cfg.char_scale / math.sqrt(n_chars) if n_chars else 0.0
        feats = Features()
        for word in slots:
            for slot, key in word.words:
                feats.add(slot, key, wv)
            for slot, key in word.chars:
                feats.add(slot, key, cv)
        for key, slot in zip(
            self.pair_keys(parsed.tokens), self.pair_slots(parsed.tokens), strict=True
        ):
            feats.add(slot, key, wv)
        for key in self.meta_keys(parsed, approved):
            feats.add(self.slot_of(key), key, cfg.meta_scale)
        return feats

    def extract(self, body: str, author_name: str = "", website: str | None = None) -> Features:
        return self.vector(self.parse(body, author_name, website))


def describe(key: str) -> str:
    """A moderator-readable name for a feature key."""
    kind, _, rest = key.partition(":")
    if kind == "w":
        if rest.startswith("<"):
            return {
                "<num>": "a short number",
                "<num3-4>": "a 3-4 digit number",
                "<num5+>": "a long number (5+ digits)",
                "<alnum>": "a word mixing letters and digits",
            }.get(rest, rest)
        return f'word "{rest}"'
    if kind == "b":
        first, _, second = rest.partition(" ")
        return f'starts with "{second}"' if first == "<s>" else f'words "{rest}"'
    if kind == "c":
        return f'letters "{rest.strip()}"'
    if kind == "m":
        name, _, value = rest.partition("=")
        kinds = {
            "shortener": "a link through a URL shortener",
            "messenger": "a link to a messenger chat (WhatsApp, Telegram, ...)",
            "reference": "a link to a reference site",
            "social": "a link to a social or video site",
            "other": "a link",
            "approved": "a link to a site this site's moderators approved before",
        }
        return {
            "link": kinds.get(value, f"a link ({value})"),
            "links": f"{value} links",
            "domain": f"links to {value}",
            "tld": f"link domain ends .{value}",
            "email": "contains an e-mail address",
            "phone": "contains a phone number",
            "wallet": "contains a crypto wallet address",
            "handle": "mentions an @handle",
            "messenger-app": "names a messenger app",
            "messenger-contact": "a messenger app with a handle, number or chat link",
            "money": "mentions an amount of money",
            "phrase": f'phrase "{value}"',
            "promo": f"{value} self-promotion phrase" + ("" if value == "1" else "s"),
            "upper": f"upper-case share class {value}",
            "exclaim-run": "runs of !! or ??",
            "repeated-chars": "repeated letters (aaaa)",
            "author-digits": "author name has digits",
            "author-link": "author name contains a link",
            "author-promo-word": "author name looks promotional",
            "website": "gave a website",
            "website-kind": f"website is {kinds.get(value, value)}",
        }.get(name, rest)
    return key
