"""Links: counting them, blocked domains and URL shorteners.

Links are found on the folded text (NFKC, casefold, look-alikes mapped, invisible
characters dropped) so bit.ly typed in full-width
letters or with a Cyrillic i is still bit.ly.
The website field is shown separately, so it is not counted, but a blocked domain or a
shortener there counts like one in the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice

from .core import OVER_BUDGET_REASON, Action, Budget, Facts, OutOfTime, Submission, Verdict
from .normalise import FOLD_LIMIT, capped, fold
from .policy import Policy
from .registry import register

# Bare domains are only recognised with these TLDs: "node.js", "file.py" and "readme.md"
# are not links to a reader. Scheme and www. links are recognised with any TLD.
COMMON_TLDS = (  # noqa: SIM905 - a word list reads better than 90 quoted strings
    "com net org info biz edu gov mil int io co me tv us uk ca de fr es it nl be ch at se no"
    " dk fi pl cz ru ua cn jp kr in br mx ar au nz za eu xyz top online site club shop store"
    " app dev ly gl gd link live blog news win bid loan click ws cc su pw tk ml ga cf gq"
    " vip work space website tech fun icu buzz cam today life world ink pro mobi asia tel"
).split()

_LABEL = r"[^\W_](?:[\w-]{0,61}[^\W_])?"
_PATH = r"(?:[/?#][^\s<>\"'()\[\]]*+)?"
# Every pattern here runs on a comment body, so each is linear-time (issue 19): possessive
# quantifiers (``*+``, ``++``) where the next token can never match what the loop ate, so
# nothing backtracks; a bounded scheme name, so a start scans at most 32 characters ahead;
# an autolink body without "<" (as in CommonMark), so a failed start stops at the next
# one. The Markdown form is found by its own pattern (``_MD_RE``), searched only up to
# the last ")" of the text: every failed start then finds a ")" ahead and stops there,
# where ``"[a](" * 2500`` used to rescan the rest of the text from every "[".
_MD = r"\[[^\]\n]{0,500}+\]\(\s*+(?P<md>[^)\s]++)[^)]*+\)"  # Markdown [text](url)
_OTHER = (
    r"<(?P<auto>[a-z][a-z0-9+.-]*+:[^<>\s]++)>"  # autolink <http://...>
    r"|\b(?P<scheme>[a-z][a-z0-9+.-]{0,31}+://[^\s<>\"'\]\[)(]++)"  # http://..., ftp://...
    r"|\b(?P<www>www\d?\.(?:" + _LABEL + r"\.)*" + _LABEL + _PATH + r")"
    # A bare name's TLD must be its last label (or the lookahead after it fails), so the
    # loop takes a label only while two more follow, and the TLD list is tried once per
    # name instead of once per label ("a." * 5000 tried it 5,000 times).
    r"|(?<![\w@.-])(?P<bare>(?:"
    + _LABEL
    + r"\.(?="
    + _LABEL
    + r"\."
    + _LABEL
    + r"))*+"
    + _LABEL
    + r"\.(?:"
    + "|".join(COMMON_TLDS)
    + r")\b"
    r"(?![\w-]|\.[^\W_])" + _PATH + r")"
)
_MD_RE = re.compile(_MD)
_OTHER_RE = re.compile(_OTHER)
# Any dotted name, whatever its TLD: used only to look up blocked domains and shorteners
# (a bare "casino.example" mention is not counted as a link, but still names that site).
_ANY_DOMAIN_RE = re.compile(r"(?<![\w@.-])(?:" + _LABEL + r"\.)+" + _LABEL + r"(?![\w-])")
_HOST_RE = re.compile(r"(?:[a-z][a-z0-9+.-]*+://)?(?:[^@/?#\s]*@)?([^/?#:\s]+)")

# Caps (issue 19): a comment's links are looked at up to these counts. Past them the
# count is already far over any site's ``max_links`` and the verdict cannot get milder.
MAX_LINKS = 500
MAX_DOMAINS = 1000


def _links_in(folded: str, limit: int = MAX_LINKS, budget: Budget | None = None) -> list[str]:
    """The links of ``folded`` in order, up to ``limit``: the matches of the Markdown
    pattern and of the others, merged as one alternation of them would find them (leftmost
    first; a Markdown link starts with "[", which no other form does, so two never start
    at one place)."""
    cut = folded.rfind(")") + 1  # a Markdown link ends at a ")": none starts later
    links: list[str] = []
    pos = 0
    md = _MD_RE.search(folded, 0, cut) if cut else None
    other = _OTHER_RE.search(folded)
    while len(links) < limit:
        if budget is not None and len(links) % 64 == 63 and budget():
            raise OutOfTime
        # A match found earlier still stands if it starts at or after ``pos``: searching
        # again from ``pos`` would find it again, after rescanning the text up to it.
        if md is not None and md.start() < pos:
            md = _MD_RE.search(folded, pos, cut)
        if other is not None and other.start() < pos:
            other = _OTHER_RE.search(folded, pos)
        if md is not None and (other is None or md.start() < other.start()):
            links.append(md.group("md"))
            pos = md.end()
        elif other is not None:
            links.append(next(g for g in other.groups() if g))
            pos = other.end()
        else:
            break
    return links


def _link_text(folded: str) -> str:
    """The part of ``folded`` where the link patterns and ``_ANY_DOMAIN_RE`` can match: the
    same matches, in the same order, found in less text.

    Without "](" (Markdown) or "<" (autolink), every link form is a run of non-space
    characters holding a "." or ":" and only looks one character beyond its ends, where
    it sees whitespace either way. So keeping only such runs, joined by spaces, keeps
    every match and its order, and skips the ordinary words in between.
    """
    if "](" in folded or "<" in folded:
        return folded
    if "." not in folded and ":" not in folded:
        return ""
    return " ".join([w for w in folded.split() if "." in w or ":" in w])


def _count(n: int) -> str:
    return "1 link" if n == 1 else f"{n} links"


def find_links(text: str) -> list[str]:
    """Every link in ``text`` as written (folded), each counted once: a Markdown link
    whose text is also a URL is one link."""
    return _links_in(_link_text(fold(text)))


def host_of(link: str) -> str:
    """The host name of a link, lowercase, without port, credentials or trailing dot."""
    m = _HOST_RE.match(link.strip())
    return m.group(1).strip(".") if m else ""


def domain_in(host: str, domains: Iterable[str]) -> str | None:
    """The entry of ``domains`` that ``host`` is or is a subdomain of, else None."""
    for domain in domains:
        if host == domain or host.endswith("." + domain):
            return domain
    return None


@lru_cache(maxsize=32)
def _domain_index(domains: tuple[str, ...]) -> tuple[dict[str, int], int]:
    """Each domain's first position in ``domains``, and the longest domain's length."""
    index: dict[str, int] = {}
    for i, domain in enumerate(domains):
        index.setdefault(domain, i)
    return index, max(map(len, domains), default=0)


def _first_domain(host: str, domains: tuple[str, ...]) -> str | None:
    """``domain_in(host, domains)`` by dictionary lookups of ``host`` and each of its
    dot-suffixes (exactly the names it is or is a subdomain of) instead of a scan.

    Only suffixes no longer than the longest domain can be one, so only those are looked
    up: a hostile 10,000-character dotted "host" costs a few lookups, not 5,000 slices of
    its whole length (issue 19)."""
    index, longest = _domain_index(domains)
    best = index.get(host) if len(host) <= longest else None
    dot = host.find(".", max(len(host) - longest - 1, 0))
    while dot >= 0:
        i = index.get(host[dot + 1 :])
        if i is not None and (best is None or i < best):
            best = i
        dot = host.find(".", dot + 1)
    return None if best is None else domains[best]


@dataclass(frozen=True, slots=True)
class LinksCheck:
    """HOLD at ``max_links`` links or more (0 = no limit) or on a URL shortener; SPAM on a
    blocked domain, in the text or in the website field."""

    max_links: int
    blocked: tuple[str, ...]
    shorteners: tuple[str, ...]
    name: str = "links"

    def __call__(self, submission: Submission, facts: Facts) -> Verdict | None:
        facts.check_time()
        folded = _link_text(fold(submission.body))
        links = _links_in(folded, MAX_LINKS, facts.budget)
        facts.check_time()
        hosts = [host_of(link) for link in links]
        hosts += [m.group() for m in islice(_ANY_DOMAIN_RE.finditer(folded), MAX_DOMAINS)]
        site = host_of(fold(submission.website)) if submission.website else ""
        if site and (hit := _first_domain(site, self.blocked)):
            return Verdict(
                self.name,
                Action.SPAM,
                "the website given is on this site's blocked list",
                detail=hit,
            )
        for host in hosts:
            if hit := _first_domain(host, self.blocked):
                return Verdict(
                    self.name,
                    Action.SPAM,
                    "links to a site on this site's blocked list",
                    detail=hit,
                )
        reasons: list[str] = []
        detail: list[str] = []
        if self.max_links and len(links) >= self.max_links:
            reasons.append(
                f"contains {_count(len(links))}"
                f" (comments with {self.max_links} or more are reviewed)"
            )
        for host in [*hosts, site]:
            if host and (hit := _first_domain(host, self.shorteners)):
                reasons.append("uses a link shortener that hides where the link leads")
                detail.append(hit)
                break
        if capped(folded):  # NFKC expanded the body past the cap: a person looks at the rest
            reasons.append(OVER_BUDGET_REASON)
            detail.append(f"only the first {FOLD_LIMIT} folded characters were checked")
        if not reasons:
            return None
        return Verdict(self.name, Action.HOLD, "; ".join(reasons), detail=", ".join(detail) or None)


@register("links")
def _links(policy: Policy) -> LinksCheck:
    return LinksCheck(policy.max_links, policy.blocked_domains, policy.url_shorteners)
