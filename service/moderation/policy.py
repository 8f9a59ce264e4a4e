"""A site's moderation policy: every setting, its default, and strict parsing from JSON.

Policies are stored as JSON (``Policy.to_dict``) and re-parsed on every use, so parsing
is strict: unknown keys, wrong types and out-of-range values raise :class:`PolicyError`
with the offending field, instead of silently running a weaker policy than intended.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from functools import cached_property
from typing import TypeVar

from . import registry
from .core import Mode
from .matcher import BLOCKED, SUSPECT, Matcher, compile_matcher
from .presets import DEFAULT_SHORTENERS, SUSPECT_PRESETS

T = TypeVar("T")

MAX_TERMS = 100_000
MAX_TERM_CHARS = 100
RATE_SCOPES = ("ip", "author", "thread")
DEFAULT_CHECKS = ("honeypot", "links", "words")
_DOMAIN_RE = re.compile(r"(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+[^\W\d_][\w-]{0,62}")


class PolicyError(ValueError):
    """A policy setting is wrong. ``field`` names it (``rate_limits.ip.limit``, or
    ``blocked_words[3]``); ``message`` says what is expected, in plain words."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``limit`` submissions per ``window_seconds`` in one scope (ip/author/thread)."""

    scope: str
    limit: int
    window_seconds: float


DEFAULT_RATE_LIMITS = (
    RateLimit("ip", 5, 60.0),
    RateLimit("author", 5, 60.0),
    RateLimit("thread", 60, 60.0),
)


@dataclass(frozen=True)
class Policy:
    """Every moderation setting of a site. Hashable, so compiled matchers can be cached.

    Zero disables a numeric rule where noted (as WordPress does for ``comment_max_links``).
    """

    mode: Mode = Mode.PREMODERATE_FIRST
    # Content checks to run after the base checks (mode, trust), in this order.
    checks: tuple[str, ...] = DEFAULT_CHECKS
    # Check names evaluated and recorded but not acted on (also applies to extra checks,
    # e.g. a new learned spam filter being trialled).
    dry_run: frozenset[str] = frozenset()
    # PREMODERATE_FIRST: approved comments needed (with no rejected/spam) to skip the queue.
    trust_min_approved: int = 1
    # honeypot check
    require_form_token: bool = True
    min_seconds_to_submit: float = 3.0  # 0 = off
    max_chars_per_second: float = 25.0  # 0 = off
    # links check
    max_links: int = 2  # HOLD at this many links or more; 0 = off
    blocked_domains: tuple[str, ...] = ()
    url_shorteners: tuple[str, ...] = DEFAULT_SHORTENERS
    # words check
    blocked_words: tuple[str, ...] = ()  # REJECT
    suspect_words: tuple[str, ...] = ()  # HOLD
    suspect_presets: tuple[str, ...] = ()  # names from presets.SUSPECT_PRESETS, also HOLD
    # pure helpers used by the service before moderation (429) and for reader flags
    rate_limits: tuple[RateLimit, ...] = DEFAULT_RATE_LIMITS
    flags_to_review: int = 3
    # learned spam filter (an extra check run by the service): hold at or above the first
    # probability, mark as spam at or above the second (the shipped model's operating point)
    spam_hold_threshold: float = 0.9
    spam_threshold: float = 0.99

    def all_suspect_words(self) -> tuple[str, ...]:
        """Own suspect words followed by every enabled preset's words."""
        out = list(self.suspect_words)
        for name in self.suspect_presets:
            out.extend(SUSPECT_PRESETS[name])
        return tuple(out)

    @cached_property
    def matcher(self) -> Matcher:
        """The word matcher, built on first use and kept on this Policy (reuse Policy
        objects: re-parsing a 10,000-term policy per request costs tens of ms)."""
        return compile_matcher(((BLOCKED, self.blocked_words), (SUSPECT, self.all_suspect_words())))

    def rate_limit(self, scope: str) -> RateLimit | None:
        """The limit for ``scope``, or None when that scope is not limited."""
        return next((r for r in self.rate_limits if r.scope == scope), None)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Policy:
        """Parse a stored/JSON policy. Missing keys take defaults; raises PolicyError."""
        if not isinstance(data, Mapping):
            raise PolicyError("policy", "must be an object")
        known = {f.name for f in fields(cls)}
        for key in data:
            if key not in known:
                raise PolicyError(str(key), "is not a policy setting")
        d = cls()
        g = _Getter(data)
        return cls(
            mode=g.get("mode", d.mode, _mode),
            checks=g.get("checks", d.checks, _checks),
            dry_run=g.get("dry_run", d.dry_run, _dry_run),
            trust_min_approved=g.get("trust_min_approved", d.trust_min_approved, _int(0, 1000)),
            require_form_token=g.get("require_form_token", d.require_form_token, _bool),
            min_seconds_to_submit=g.get(
                "min_seconds_to_submit", d.min_seconds_to_submit, _num(0, 3600)
            ),
            max_chars_per_second=g.get(
                "max_chars_per_second", d.max_chars_per_second, _num(0, 10_000)
            ),
            max_links=g.get("max_links", d.max_links, _int(0, 1000)),
            blocked_domains=g.get("blocked_domains", d.blocked_domains, _list(_domain, 10_000)),
            url_shorteners=g.get("url_shorteners", d.url_shorteners, _list(_domain, 10_000)),
            blocked_words=g.get("blocked_words", d.blocked_words, _list(_term, MAX_TERMS)),
            suspect_words=g.get("suspect_words", d.suspect_words, _list(_term, MAX_TERMS)),
            suspect_presets=g.get("suspect_presets", d.suspect_presets, _list(_preset, 20)),
            rate_limits=g.get("rate_limits", d.rate_limits, _rate_limits),
            flags_to_review=g.get("flags_to_review", d.flags_to_review, _int(1, 1000)),
            spam_hold_threshold=g.get("spam_hold_threshold", d.spam_hold_threshold, _num(0.0, 1.0)),
            spam_threshold=g.get("spam_threshold", d.spam_threshold, _num(0.0, 1.0)),
        )._checked()

    def _checked(self) -> Policy:
        if self.spam_hold_threshold > self.spam_threshold:
            raise PolicyError("spam_hold_threshold", "must not be above spam_threshold")
        return self

    def to_dict(self) -> dict[str, object]:
        """JSON-safe form; ``Policy.from_dict(p.to_dict()) == p``."""
        limits: dict[str, object] = dict.fromkeys(RATE_SCOPES)
        for r in self.rate_limits:
            limits[r.scope] = {"limit": r.limit, "window_seconds": r.window_seconds}
        return {
            "mode": self.mode.value,
            "checks": list(self.checks),
            "dry_run": sorted(self.dry_run),
            "trust_min_approved": self.trust_min_approved,
            "require_form_token": self.require_form_token,
            "min_seconds_to_submit": self.min_seconds_to_submit,
            "max_chars_per_second": self.max_chars_per_second,
            "max_links": self.max_links,
            "blocked_domains": list(self.blocked_domains),
            "url_shorteners": list(self.url_shorteners),
            "blocked_words": list(self.blocked_words),
            "suspect_words": list(self.suspect_words),
            "suspect_presets": list(self.suspect_presets),
            "rate_limits": limits,
            "flags_to_review": self.flags_to_review,
            "spam_hold_threshold": self.spam_hold_threshold,
            "spam_threshold": self.spam_threshold,
        }


# --- field parsers: each takes (field name, raw value) and returns the parsed value -------

Parser = Callable[[str, object], T]


@dataclass
class _Getter:
    data: Mapping[str, object]

    def get(self, key: str, default: T, parse: Parser[T]) -> T:
        return parse(key, self.data[key]) if key in self.data else default


def _mode(name: str, raw: object) -> Mode:
    if isinstance(raw, str) and raw in Mode._value2member_map_:
        return Mode(raw)
    raise PolicyError(name, "must be one of " + ", ".join(m.value for m in Mode))


def _bool(name: str, raw: object) -> bool:
    if not isinstance(raw, bool):
        raise PolicyError(name, "must be true or false")
    return raw


def _int(lo: int, hi: int) -> Parser[int]:
    def parse(name: str, raw: object) -> int:
        # bool is an int subclass: "max_links": true is a mistake, not 1.
        if isinstance(raw, bool) or not isinstance(raw, int) or not lo <= raw <= hi:
            raise PolicyError(name, f"must be a whole number from {lo} to {hi}")
        return raw

    return parse


def _num(lo: float, hi: float) -> Parser[float]:
    def parse(name: str, raw: object) -> float:
        ok = isinstance(raw, int | float) and not isinstance(raw, bool)
        if not ok or not math.isfinite(float(raw)) or not lo <= float(raw) <= hi:  # type: ignore[arg-type]
            raise PolicyError(name, f"must be a number from {lo:g} to {hi:g}")
        return float(raw)  # type: ignore[arg-type]

    return parse


def _list(item: Parser[str], max_items: int) -> Parser[tuple[str, ...]]:
    def parse(name: str, raw: object) -> tuple[str, ...]:
        # A bare string would iterate as characters: refuse it rather than guess.
        if not isinstance(raw, list | tuple):
            raise PolicyError(name, "must be a list")
        if len(raw) > max_items:
            raise PolicyError(name, f"has {len(raw)} entries (at most {max_items})")
        out = tuple(item(f"{name}[{i}]", v) for i, v in enumerate(raw))
        return tuple(dict.fromkeys(out))  # drop duplicates, keep order

    return parse


def _text(name: str, raw: object) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise PolicyError(name, "must be non-empty text")
    return raw.strip()


def _term(name: str, raw: object) -> str:
    term = _text(name, raw)
    if len(term) > MAX_TERM_CHARS:
        raise PolicyError(name, f"is longer than {MAX_TERM_CHARS} characters")
    # Cheap on purpose: policies are parsed often and lists can hold 100,000 terms.
    if not any(c.isalnum() for c in term):
        raise PolicyError(name, "has no letters or digits to match")
    return term


def _domain(name: str, raw: object) -> str:
    domain = _text(name, raw).casefold().removeprefix("*.").strip(".")
    if not _DOMAIN_RE.fullmatch(domain):
        raise PolicyError(name, "must be a domain name such as example.com")
    return domain


def _preset(name: str, raw: object) -> str:
    if not isinstance(raw, str) or raw not in SUSPECT_PRESETS:
        raise PolicyError(name, "must be one of " + ", ".join(sorted(SUSPECT_PRESETS)))
    return raw


def _checks(name: str, raw: object) -> tuple[str, ...]:
    names = _list(_text, 50)(name, raw)
    for i, check in enumerate(names):
        if check in registry.BASE_CHECKS:
            raise PolicyError(f"{name}[{i}]", f"{check!r} always runs; set 'mode' instead")
        if check not in registry.registered():
            known = ", ".join(sorted(registry.registered() - set(registry.BASE_CHECKS)))
            raise PolicyError(f"{name}[{i}]", f"unknown check {check!r} (known: {known})")
    return names


def _dry_run(name: str, raw: object) -> frozenset[str]:
    names = _list(_text, 50)(name, raw)
    for i, check in enumerate(names):
        if not registry.NAME_RE.fullmatch(check):
            raise PolicyError(f"{name}[{i}]", "must be a check name (lowercase letters, _)")
        if check in registry.BASE_CHECKS:
            raise PolicyError(f"{name}[{i}]", f"{check!r} cannot be dry-run; change 'mode'")
    return frozenset(names)


def _rate_limits(name: str, raw: object) -> tuple[RateLimit, ...]:
    if not isinstance(raw, Mapping):
        raise PolicyError(name, "must be an object with ip, author and/or thread")
    limits = {r.scope: r for r in DEFAULT_RATE_LIMITS}  # unspecified scopes keep defaults
    for scope, spec in raw.items():
        where = f"{name}.{scope}"
        if scope not in RATE_SCOPES:
            raise PolicyError(where, "is not a scope (ip, author, thread)")
        if spec is None:  # null switches the scope off
            limits.pop(scope, None)
            continue
        if not isinstance(spec, Mapping) or set(spec) != {"limit", "window_seconds"}:
            raise PolicyError(where, "must be null or {limit, window_seconds}")
        limit = _int(1, 100_000)(f"{where}.limit", spec["limit"])
        window = _num(1, 7 * 86_400)(f"{where}.window_seconds", spec["window_seconds"])
        limits[scope] = RateLimit(scope, limit, window)
    return tuple(limits[s] for s in RATE_SCOPES if s in limits)
