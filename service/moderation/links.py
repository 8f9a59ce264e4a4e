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

from .core import Action, Facts, Submission, Verdict
from .normalise import fold
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
_PATH = r"(?:[/?#][^\s<>\"'()\[\]]*)?"
_LINK_RE = re.compile(
    r"\[[^\]\n]{0,500}\]\(\s*(?P<md>[^)\s]+)[^)]*\)"  # Markdown [text](url)
    r"|<(?P<auto>[a-z][a-z0-9+.-]*:[^>\s]+)>"  # autolink <http://...>
    r"|\b(?P<scheme>[a-z][a-z0-9+.-]*://[^\s<>\"'\]\[)(]+)"  # http://..., ftp://...
    r"|\b(?P<www>www\d?\.(?:" + _LABEL + r"\.)*" + _LABEL + _PATH + r")"
    r"|(?<![\w@.-])(?P<bare>(?:" + _LABEL + r"\.)+(?:" + "|".join(COMMON_TLDS) + r")\b"
    r"(?![\w-]|\.[^\W_])" + _PATH + r")"
)
# Any dotted name, whatever its TLD: used only to look up blocked domains and shorteners
# (a bare "casino.example" mention is not counted as a link, but still names that site).
_ANY_DOMAIN_RE = re.compile(r"(?<![\w@.-])(?:" + _LABEL + r"\.)+" + _LABEL + r"(?![\w-])")
_HOST_RE = re.compile(r"(?:[a-z][a-z0-9+.-]*://)?(?:[^@/?#\s]*@)?([^/?#:\s]+)")


def _link_text(folded: str) -> str:
    """The part of ``folded`` where ``_LINK_RE`` and ``_ANY_DOMAIN_RE`` can match: the
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
    return [next(g for g in m.groups() if g) for m in _LINK_RE.finditer(_link_text(fold(text)))]


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
def _domain_index(domains: tuple[str, ...]) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, domain in enumerate(domains):
        index.setdefault(domain, i)
    return index


def _first_domain(host: str, domains: tuple[str, ...]) -> str | None:
    """``domain_in(host, domains)`` by dictionary lookups of ``host`` and each of its
    dot-suffixes (exactly the names it is or is a subdomain of) instead of a scan."""
    index = _domain_index(domains)
    best = index.get(host)
    dot = host.find(".")
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

    def __call__(self, submission: Submission, facts: Facts) -> Verdict | None:  # noqa: ARG002
        folded = _link_text(fold(submission.body))
        links = [next(g for g in m.groups() if g) for m in _LINK_RE.finditer(folded)]
        hosts = [host_of(link) for link in links]
        hosts += [m.group() for m in _ANY_DOMAIN_RE.finditer(folded)]
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
        if not reasons:
            return None
        return Verdict(self.name, Action.HOLD, "; ".join(reasons), detail=", ".join(detail) or None)


@register("links")
def _links(policy: Policy) -> LinksCheck:
    return LinksCheck(policy.max_links, policy.blocked_domains, policy.url_shorteners)
