"""Built-in checks on the author and the form: mode, trust and honeypot/timing.

Each check is a frozen dataclass built from the Policy by a factory registered under its
name, exactly as a plug-in check would be. Reasons are read by the comment's author too
(after "held for review:"), so they are plain clauses about the comment, never accusations
drawn from weak signals.
"""

from __future__ import annotations

from dataclasses import dataclass

from .core import Action, Evidence, Facts, Mode, Submission, Verdict
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
            return Verdict(
                self.name,
                Action.HOLD,
                "a moderator reads every comment on this site before it appears",
                evidence=Evidence.WEAK,
            )
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
            # Earlier spam from this author is independent of anything in this comment:
            # strong enough to confirm the spam filter, never to bin alone. A rejection
            # alone (off topic, uncivil) says nothing about spam: weak.
            was = "was" if h.bad == 1 else "were"
            return Verdict(
                self.name,
                Action.HOLD,
                f"{_plural(h.bad, 'earlier comment')} from this name and email {was}"
                " rejected or marked as spam",
                evidence=Evidence.STRONG if h.spam else Evidence.WEAK,
            )
        if self.mode is not Mode.PREMODERATE_FIRST:
            return None
        if h.approved >= self.min_approved:
            approved = _plural(h.approved, "approved comment")
            return Verdict(self.name, Action.APPROVE, f"known author with {approved}")
        if h.approved == 0 and h.pending == 0:
            return Verdict(
                self.name,
                Action.HOLD,
                "a moderator reads the first comment from each name and email before it appears",
                evidence=Evidence.WEAK,
            )
        if h.approved == 0:
            waiting = "is" if h.pending == 1 else "are"
            return Verdict(
                self.name,
                Action.HOLD,
                f"{_plural(h.pending, 'earlier comment')} from this name and email {waiting}"
                f" still waiting for a moderator; {self._until()}",
                evidence=Evidence.WEAK,
            )
        return Verdict(
            self.name,
            Action.HOLD,
            f"this name and email has {_plural(h.approved, 'approved comment')}; {self._until()}",
            evidence=Evidence.WEAK,
        )

    def _until(self) -> str:
        if self.min_approved == 1:
            return "comments appear without review once one has been approved"
        return f"comments appear without review once {self.min_approved} have been approved"


@dataclass(frozen=True, slots=True)
class HoneypotCheck:
    """Bot signals from the form: the hidden field, the form token and the timing.

    Only the hidden field is decisive: people never see it, so only a script fills it in
    (SPAM). Everything else is weak evidence and at most holds a comment for review: a
    missing or stale token happens to people (a page open for a day, a failed request),
    and speed is not a bot signal on its own: people write in notes apps, dictate, use
    autofill, or re-send the text the widget kept after an error. Those verdicts carry the
    check names ``form_token`` and ``form_timing`` so that every count by reason (the
    transparency report, policy trials) names the real reason, not "honeypot".
    Edits skip the timing rules (no fresh form).
    """

    require_form_token: bool
    min_seconds: float
    max_chars_per_second: float
    name: str = "honeypot"

    def __call__(self, submission: Submission, facts: Facts) -> Verdict | None:
        if submission.honeypot and submission.honeypot.strip():
            return Verdict(
                self.name,
                Action.SPAM,
                "a hidden form field that people never see was filled in",
                evidence=Evidence.DECISIVE,
            )
        if submission.is_edit:
            return None
        rendered = submission.form_rendered_at
        if rendered is None:
            if self.require_form_token:
                return Verdict(
                    "form_token",
                    Action.HOLD,
                    "it was sent without a valid comment form (for example from a page"
                    " that was open for more than an hour)",
                    evidence=Evidence.WEAK,
                )
            return None
        elapsed = facts.now - rendered
        if elapsed < 0:  # clock trouble is not the author's fault: a person decides
            return Verdict(
                "form_token",
                Action.HOLD,
                "the time of the comment form could not be checked",
                evidence=Evidence.WEAK,
            )
        if elapsed < self.min_seconds:
            return Verdict(
                "form_timing",
                Action.HOLD,
                f"it was sent {_seconds(elapsed)} after the comment form appeared, as"
                " automated posting does (and pasting a prepared text)",
                evidence=Evidence.WEAK,
            )
        chars = len(submission.body)
        if self.max_chars_per_second and elapsed and chars / elapsed > self.max_chars_per_second:
            return Verdict(
                "form_timing",
                Action.HOLD,
                f"{chars} characters were sent {_seconds(elapsed)} after the comment form"
                " appeared, as with a pasted text (or automated posting)",
                detail=f"{chars / elapsed:.1f} characters per second"
                f" (limit {self.max_chars_per_second:g})",
                evidence=Evidence.WEAK,
            )
        return None


def _seconds(elapsed: float) -> str:
    whole = max(round(elapsed), 0)
    return "less than a second" if elapsed < 0.5 else _plural(whole, "second")


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
