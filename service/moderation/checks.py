"""Built-in checks on the author and the form: mode, trust and honeypot/timing.

Each check is a frozen dataclass built from the Policy by a factory registered under its
name, exactly as a plug-in check would be.
"""

from __future__ import annotations

from dataclasses import dataclass

from .core import Action, Facts, Mode, Submission, Verdict
from .policy import Policy
from .registry import register


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


@dataclass(frozen=True, slots=True)
class ModeCheck:
    """PREMODERATE_ALL holds everything; the other modes have no opinion here."""

    mode: Mode
    name: str = "mode"

    def __call__(self, submission: Submission, facts: Facts) -> Verdict | None:  # noqa: ARG002
        if self.mode is Mode.PREMODERATE_ALL:
            return Verdict(self.name, Action.HOLD, "every comment on this site is reviewed first")
        return None


@dataclass(frozen=True, slots=True)
class TrustCheck:
    """Authors with rejected/spam history are held in every mode; under PREMODERATE_FIRST
    authors are held until they have ``min_approved`` approved comments."""

    mode: Mode
    min_approved: int
    name: str = "trust"

    def __call__(self, submission: Submission, facts: Facts) -> Verdict | None:  # noqa: ARG002
        h = facts.history
        if h.bad:
            return Verdict(
                self.name,
                Action.HOLD,
                f"this author has {_plural(h.bad, 'earlier comment')} rejected or marked"
                " as spam: held for review",
            )
        if self.mode is not Mode.PREMODERATE_FIRST:
            return None
        if h.approved >= self.min_approved:
            approved = _plural(h.approved, "approved comment")
            return Verdict(self.name, Action.APPROVE, f"known author with {approved}")
        if h.approved == 0:
            return Verdict(
                self.name, Action.HOLD, "first comment from this author: held for review"
            )
        return Verdict(
            self.name,
            Action.HOLD,
            f"this author has {_plural(h.approved, 'approved comment')}; comments appear"
            f" without review after {self.min_approved}",
        )


@dataclass(frozen=True, slots=True)
class HoneypotCheck:
    """Bot signals from the form: the hidden field, the form token and the timing.

    Timing compares the caller's ``now`` with the verified token's render time: people
    need a few seconds to read and type; scripts post at once or paste at machine speed.
    Edits skip the timing rules (no fresh form).
    """

    require_form_token: bool
    min_seconds: float
    max_chars_per_second: float
    name: str = "honeypot"

    def __call__(self, submission: Submission, facts: Facts) -> Verdict | None:
        if submission.honeypot and submission.honeypot.strip():
            return Verdict(
                self.name, Action.SPAM, "a hidden form field that people never see was filled in"
            )
        if submission.is_edit:
            return None
        rendered = submission.form_rendered_at
        if rendered is None:
            if self.require_form_token:
                return Verdict(
                    self.name, Action.HOLD, "sent without a valid comment form: held for review"
                )
            return None
        elapsed = facts.now - rendered
        if elapsed < 0:  # clock trouble is not the author's fault: a person decides
            return Verdict(
                self.name, Action.HOLD, "the form's time is in the future: held for review"
            )
        if elapsed < self.min_seconds:
            return Verdict(
                self.name,
                Action.SPAM,
                f"sent {elapsed:.1f} seconds after the form appeared:"
                " faster than a person can type",
            )
        chars = len(submission.body)
        if self.max_chars_per_second and elapsed and chars / elapsed > self.max_chars_per_second:
            return Verdict(
                self.name,
                Action.SPAM,
                f"{chars} characters written in {elapsed:.0f} seconds:"
                " faster than a person can type",
                detail=f"{chars / elapsed:.1f} characters per second"
                f" (limit {self.max_chars_per_second:g})",
            )
        return None


@register("honeypot")
def _honeypot(policy: Policy) -> HoneypotCheck:
    return HoneypotCheck(
        policy.require_form_token, policy.min_seconds_to_submit, policy.max_chars_per_second
    )


@register("mode")
def _mode(policy: Policy) -> ModeCheck:
    return ModeCheck(policy.mode)


@register("trust")
def _trust(policy: Policy) -> TrustCheck:
    return TrustCheck(policy.mode, policy.trust_min_approved)
