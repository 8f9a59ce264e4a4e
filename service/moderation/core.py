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


class Evidence(StrEnum):
    """How much a verdict weighs when the pipeline decides between SPAM/REJECT and HOLD.

    * DECISIVE: acts alone. The site's own blocked lists and the hidden honeypot field
      (people never see it, so only a script fills it in).
    * STRONG: a real signal, but a judgement that can be wrong (the learned spam filter
      scoring "very likely spam"; an author whose earlier comments were marked as spam).
      A STRONG SPAM verdict stands only if a STRONG verdict from another check agrees.
    * WEAK: worth a look, never a reason to bin a comment (typing speed, a missing form
      token, how many links, premoderation). At most HOLD, and it corroborates nothing.

    A verdict that does not say (``evidence=None``) weighs by its action: SPAM and REJECT
    are DECISIVE (a rule the site wrote, such as a blocked domain), HOLD and APPROVE WEAK.
    """

    DECISIVE = "decisive"
    STRONG = "strong"
    WEAK = "weak"


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
    """Counts of this author's earlier comments on the site, by status.

    The service matches authors by keyed email hash AND name, never by email alone,
    so that typing somebody else's email does not borrow their standing. The comment
    being moderated is never among them (an edited comment does not count against itself).
    ``pending`` only changes the wording ("first comment" or not), never the action.
    """

    approved: int = 0
    rejected: int = 0
    spam: int = 0
    pending: int = 0

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
    ``dry_run`` verdicts are recorded but never influence the action. ``evidence`` says how
    much the verdict weighs (see :class:`Evidence`; None: by its action).

    A reason is a clause that reads after "held for review:" or "not published:" (the
    widget adds those words), so it never says "held for review" itself.
    """

    check: str
    action: Action
    reason: str
    dry_run: bool = False
    detail: str | None = None
    evidence: Evidence | None = None

    @property
    def weight(self) -> Evidence:
        """The evidence this verdict counts as: the stated one, else by its action."""
        if self.evidence is not None:
            return self.evidence
        if self.action.severity >= Action.SPAM.severity:
            return Evidence.DECISIVE
        return Evidence.WEAK

    def to_dict(self) -> dict[str, object]:
        """JSON-safe form; ``detail`` and ``evidence`` are omitted when not set."""
        out: dict[str, object] = {
            "check": self.check,
            "action": self.action.value,
            "reason": self.reason,
            "dry_run": self.dry_run,
        }
        if self.detail is not None:
            out["detail"] = self.detail
        if self.evidence is not None:
            out["evidence"] = self.evidence.value
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, object]) -> Verdict:
        """Inverse of :meth:`to_dict`; raises ValueError on a malformed record."""
        check, reason, dry_run = d.get("check"), d.get("reason"), d.get("dry_run", False)
        detail, evidence = d.get("detail"), d.get("evidence")
        if not isinstance(check, str) or not isinstance(reason, str):
            raise ValueError("a verdict needs text 'check' and 'reason'")
        if not isinstance(dry_run, bool) or not (detail is None or isinstance(detail, str)):
            raise ValueError("a verdict's 'dry_run' must be a boolean and 'detail' text")
        return cls(
            check,
            Action(str(d.get("action"))),
            reason,
            dry_run,
            detail,
            None if evidence is None else Evidence(str(evidence)),
        )


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome: the action taken and every verdict that led to it (for the audit trail).

    ``held_instead_of`` is set when a verdict asked for SPAM or REJECT without the evidence
    the pipeline needs for that (see ``pipeline.moderate``): the comment was held instead.
    """

    action: Action
    verdicts: tuple[Verdict, ...]
    held_instead_of: Action | None = None

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
        out: dict[str, object] = {
            "action": self.action.value,
            "verdicts": [v.to_dict() for v in self.verdicts],
        }
        if self.held_instead_of is not None:
            out["held_instead_of"] = self.held_instead_of.value
        return out

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
        held = d.get("held_instead_of")
        return cls(
            Action(str(d.get("action"))),
            tuple(verdicts),
            None if held is None else Action(str(held)),
        )


class Check(Protocol):
    """A moderation rule. Returns None when it has no opinion.

    A check must be pure: same submission and facts, same verdict. If it raises, the
    pipeline records a HOLD ("check X failed; sent to the queue") instead.
    """

    @property
    def name(self) -> str: ...

    def __call__(self, submission: Submission, facts: Facts) -> Verdict | None: ...
