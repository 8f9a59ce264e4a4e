"""The value types of the moderation core: what comes in, what each check says, what goes out.

Everything here is a frozen value: the core never mutates its inputs and never returns
modified text, so the caller can log, store and replay decisions safely.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class Action(StrEnum):
    """What to do with a comment, ordered by severity: APPROVE < HOLD < SPAM < REJECT.

    StrEnum compares as text, so never use ``<`` or ``max`` on actions directly:
    use :attr:`severity` or :func:`strictest`.
    """

    APPROVE = "approve"
    HOLD = "hold"
    SPAM = "spam"
    REJECT = "reject"

    @property
    def severity(self) -> int:
        """0 for APPROVE up to 3 for REJECT."""
        return _SEVERITY[self]


_SEVERITY = {Action.APPROVE: 0, Action.HOLD: 1, Action.SPAM: 2, Action.REJECT: 3}


def strictest(actions: Iterable[Action]) -> Action:
    """The most severe of ``actions``; APPROVE when there are none."""
    return max(actions, key=_SEVERITY.__getitem__, default=Action.APPROVE)


class Mode(StrEnum):
    """The site's base policy, applied before any content check."""

    PREMODERATE_ALL = "premoderate_all"
    PREMODERATE_FIRST = "premoderate_first"
    PUBLISH = "publish"


@dataclass(frozen=True, slots=True)
class Submission:
    """One comment as typed by its author, plus the facts the form carried.

    ``form_rendered_at`` comes from a form token that the service has already verified;
    the core trusts it and never sees the token itself. ``is_edit`` marks a re-moderation
    of an edited comment: the form timing rules do not apply to it, because an edit has
    no fresh form and the creation time says nothing about typing speed.
    """

    body: str
    author_name: str
    website: str | None = None
    is_reply: bool = False
    honeypot: str | None = None
    form_rendered_at: float | None = None
    is_edit: bool = False


@dataclass(frozen=True, slots=True)
class AuthorHistory:
    """Counts of this author's earlier comments on the site, by final status.

    The service matches authors by keyed email hash AND name, never by email alone,
    so that typing somebody else's email does not borrow their standing.
    """

    approved: int = 0
    rejected: int = 0
    spam: int = 0

    @property
    def bad(self) -> int:
        """Earlier comments that a moderator rejected or marked as spam."""
        return self.rejected + self.spam


# Answers True once the caller's time for this comment is up. The core never reads a clock:
# the caller's callable does (service.comments.screening.Deadline), and the core only asks
# it, between checks and every few thousand characters inside long loops (issue 19).
Budget = Callable[[], bool]

# The check name and the plain reason of the HOLD that a spent budget or a stage cap gives.
BUDGET_CHECK = "budget"
OVER_BUDGET_REASON = "too long to check automatically; a moderator will review it"


class OutOfTime(Exception):
    """Raised inside a check when ``Facts.budget`` says time is up; the pipeline turns it
    into a HOLD with ``OVER_BUDGET_REASON`` and runs no further check."""


# Long Python loops ask the budget once per this many steps (characters, matches): often
# enough to stop within a millisecond or two, rarely enough to cost nothing measurable.
BUDGET_STRIDE = 2048


def ask_budget(budget: Budget | None) -> None:
    """Raise OutOfTime when ``budget`` says time is up (None: never)."""
    if budget is not None and budget():
        raise OutOfTime


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything the core needs from the outside world, supplied by the caller.

    ``now`` is unix seconds from the caller's clock: the core never reads a clock.
    ``extra`` is room for future facts (e.g. a classifier score) without an API change.
    ``budget``: see ``Budget``; None means no limit.
    """

    now: float
    history: AuthorHistory = AuthorHistory()
    extra: Mapping[str, object] = field(default_factory=dict)
    budget: Budget | None = None

    def check_time(self) -> None:
        """Raise OutOfTime when the caller's budget is spent."""
        ask_budget(self.budget)


def over_budget(detail: str | None = None) -> Verdict:
    """The HOLD for a comment whose checks were stopped by the budget or a cap: a person
    decides, never the machine (not SPAM, not REJECT, not dropped)."""
    return Verdict(BUDGET_CHECK, Action.HOLD, OVER_BUDGET_REASON, detail=detail)


@dataclass(frozen=True, slots=True)
class Verdict:
    """One check's opinion.

    ``reason`` is plain words a reader or moderator understands, and may be shown to the
    author, so it never quotes the matched blocked term. ``detail`` is for moderators
    only (e.g. which term or domain matched); the service must not show it publicly.
    ``dry_run`` verdicts are recorded but never influence the action.
    """

    check: str
    action: Action
    reason: str
    dry_run: bool = False
    detail: str | None = None

    def to_dict(self) -> dict[str, object]:
        """JSON-safe form; ``detail`` is omitted when empty."""
        out: dict[str, object] = {
            "check": self.check,
            "action": self.action.value,
            "reason": self.reason,
            "dry_run": self.dry_run,
        }
        if self.detail is not None:
            out["detail"] = self.detail
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, object]) -> Verdict:
        """Inverse of :meth:`to_dict`; raises ValueError on a malformed record."""
        check, reason, dry_run = d.get("check"), d.get("reason"), d.get("dry_run", False)
        detail = d.get("detail")
        if not isinstance(check, str) or not isinstance(reason, str):
            raise ValueError("a verdict needs text 'check' and 'reason'")
        if not isinstance(dry_run, bool) or not (detail is None or isinstance(detail, str)):
            raise ValueError("a verdict's 'dry_run' must be a boolean and 'detail' text")
        return cls(check, Action(str(d.get("action"))), reason, dry_run, detail)


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome: the action taken and every verdict that led to it (for the audit trail)."""

    action: Action
    verdicts: tuple[Verdict, ...]

    @property
    def acting(self) -> tuple[Verdict, ...]:
        """The verdicts that were acted on (everything except dry-run verdicts)."""
        return tuple(v for v in self.verdicts if not v.dry_run)

    def reasons(self) -> list[str]:
        """Acting verdicts' reasons, most severe first (ties keep check order)."""
        ordered = sorted(self.acting, key=lambda v: -v.action.severity)
        return [v.reason for v in ordered]

    def to_dict(self) -> dict[str, object]:
        """JSON-safe form for the audit trail."""
        return {"action": self.action.value, "verdicts": [v.to_dict() for v in self.verdicts]}

    @classmethod
    def from_dict(cls, d: Mapping[str, object]) -> Decision:
        """Inverse of :meth:`to_dict`. Unknown top-level keys (e.g. an ``actor`` the
        service adds) are ignored so stored audit records stay readable."""
        raw = d.get("verdicts", [])
        if not isinstance(raw, list | tuple):
            raise ValueError("'verdicts' must be a list")
        verdicts = []
        for item in raw:
            if not isinstance(item, Mapping):
                raise ValueError("each verdict must be an object")
            verdicts.append(Verdict.from_dict(item))
        return cls(Action(str(d.get("action"))), tuple(verdicts))


class Check(Protocol):
    """A moderation rule. Returns None when it has no opinion.

    A check must be pure: same submission and facts, same verdict. If it raises, the
    pipeline records a HOLD ("check X failed; sent to the queue") instead.
    """

    @property
    def name(self) -> str: ...

    def __call__(self, submission: Submission, facts: Facts) -> Verdict | None: ...
