"""TEMPORARY integrator seam (replaced by the moderation core)."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class Action(StrEnum):
    APPROVE = "approve"
    HOLD = "hold"
    SPAM = "spam"
    REJECT = "reject"


class Mode(StrEnum):
    PREMODERATE_ALL = "premoderate_all"
    PREMODERATE_FIRST = "premoderate_first"
    PUBLISH = "publish"


@dataclass(frozen=True, slots=True)
class Submission:
    body: str
    author_name: str
    website: str | None = None
    is_reply: bool = False
    honeypot: str | None = None
    form_rendered_at: float | None = None


@dataclass(frozen=True, slots=True)
class AuthorHistory:
    approved: int = 0
    rejected: int = 0
    spam: int = 0


@dataclass(frozen=True, slots=True)
class Facts:
    now: float
    history: AuthorHistory = AuthorHistory()
    extra: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Verdict:
    check: str
    action: Action
    reason: str
    dry_run: bool = False


_ORDER = [Action.APPROVE, Action.HOLD, Action.SPAM, Action.REJECT]


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    verdicts: tuple[Verdict, ...]

    def reasons(self) -> list[str]:
        acting = [v for v in self.verdicts if not v.dry_run and v.action is not Action.APPROVE]
        acting.sort(key=lambda v: -_ORDER.index(v.action))
        return [v.reason for v in acting]

    def to_dict(self) -> dict[str, object]:
        return {
            "action": self.action.value,
            "verdicts": [
                {
                    "check": v.check,
                    "action": v.action.value,
                    "reason": v.reason,
                    "dry_run": v.dry_run,
                }
                for v in self.verdicts
            ],
        }


class Check(Protocol):
    name: str

    def __call__(self, submission: Submission, facts: Facts) -> Verdict | None: ...


class PolicyError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Policy:
    mode: Mode = Mode.PREMODERATE_FIRST
    require_form_token: bool = True

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Policy:
        unknown = set(data) - {"mode", "require_form_token"}
        if unknown:
            raise PolicyError(sorted(unknown)[0], "is not a policy setting")
        try:
            mode = Mode(data.get("mode", Mode.PREMODERATE_FIRST))
        except ValueError as exc:
            raise PolicyError(
                "mode", "must be premoderate_all, premoderate_first or publish"
            ) from exc
        return cls(mode=mode, require_form_token=bool(data.get("require_form_token", True)))

    def to_dict(self) -> dict[str, object]:
        return {"mode": self.mode.value, "require_form_token": self.require_form_token}


def normalised_key(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def moderate(
    submission: Submission, facts: Facts, policy: Policy, extra_checks: Sequence[Check] = ()
) -> Decision:
    verdicts: list[Verdict] = []
    h = facts.history
    if policy.mode is Mode.PREMODERATE_ALL:
        verdicts.append(
            Verdict(
                "mode", Action.HOLD, "every comment on this site is reviewed before publication"
            )
        )
    elif policy.mode is Mode.PREMODERATE_FIRST and (h.approved == 0 or h.rejected + h.spam > 0):
        verdicts.append(
            Verdict("trust", Action.HOLD, "first comment from this author: held for review")
        )
    if policy.require_form_token and submission.form_rendered_at is None:
        verdicts.append(Verdict("honeypot", Action.HOLD, "sent without the comment form"))
    for check in extra_checks:
        v = check(submission, facts)
        if v:
            verdicts.append(v)
    acting = [v.action for v in verdicts if not v.dry_run] or [Action.APPROVE]
    return Decision(max(acting, key=_ORDER.index), tuple(verdicts))
