"""``moderate``: run the base checks, the policy's checks and any extra checks; decide.

Rules that hold whatever the checks do:
* every verdict is kept, in run order, for the audit trail;
* the strictest acting verdict wins (APPROVE when none objects), except that SPAM and
  REJECT, which take a comment away without a person seeing it, need strong and
  independent evidence (``combine``); without it the comment is held for review;
* dry-run verdicts are recorded with ``dry_run=True`` and never change the action;
* a check that raises or returns garbage yields HOLD, never APPROVE and never REJECT:
  a broken rule must neither publish spam nor silently destroy a real comment;
* when the caller's budget (``Facts.budget``) runs out, before a check or inside one
  (``OutOfTime``), no further check runs and the comment is held with the plain reason
  ``OVER_BUDGET_REASON`` (issue 19): the verdicts found so far are kept.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from . import registry
from .core import (
    Action,
    Check,
    Decision,
    Evidence,
    Facts,
    OutOfTime,
    Submission,
    Verdict,
    over_budget,
    strictest,
)
from .policy import Policy


def build_checks(policy: Policy) -> list[Check]:
    """The base checks then ``policy.checks``, built through the registry, in order."""
    checks: list[Check] = []
    for name in (*registry.BASE_CHECKS, *policy.checks):
        check = registry.factory(name)(policy)
        if check is not None:
            checks.append(check)
    return checks


def _run(check: Check, submission: Submission, facts: Facts, dry_run: bool) -> Verdict | None:
    name = str(getattr(check, "name", type(check).__name__))
    try:
        verdict = check(submission, facts)
        if verdict is not None and not isinstance(verdict, Verdict):
            raise TypeError(f"returned {type(verdict).__name__}, not a Verdict")
        if verdict is not None and not isinstance(verdict.action, Action):
            raise TypeError("returned a verdict without an Action")
    except OutOfTime:
        raise
    except Exception as exc:  # any failure of a rule means "a person looks"
        verdict = Verdict(
            name,
            Action.HOLD,
            f"the automatic check {name!r} could not run, so a moderator will read it",
            detail=type(exc).__name__,
            evidence=Evidence.WEAK,
        )
    if verdict is None:
        return None
    if dry_run and not verdict.dry_run:
        verdict = dataclasses.replace(verdict, dry_run=True)
    return verdict


def combine(verdicts: Sequence[Verdict]) -> tuple[Action, Action | None]:
    """The action for these acting verdicts, and the stricter action that was asked for but
    not taken (None when every verdict got its way).

    A comment is removed without a person (SPAM or REJECT) only when
    * a DECISIVE verdict says so (the site's blocked lists, the hidden honeypot field), or
    * a STRONG verdict says so and a STRONG verdict of another check agrees that something
      is wrong (HOLD or stricter): e.g. the spam filter's "very likely spam" and an author
      whose earlier comments were marked as spam.
    Any other SPAM or REJECT is held for review instead; WEAK verdicts (typing speed, link
    count, premoderation) never count towards removal, whatever action they name.
    """
    wanted = strictest(v.action for v in verdicts)
    if wanted.severity < Action.SPAM.severity:
        return wanted, None
    decisive = [v.action for v in verdicts if v.weight is Evidence.DECISIVE]
    strong = [
        v for v in verdicts if v.weight is not Evidence.WEAK and v.action is not Action.APPROVE
    ]
    corroborated = [
        v.action
        for v in strong
        if v.action.severity >= Action.SPAM.severity
        and any(other.check != v.check for other in strong)
    ]
    taken = strictest([Action.HOLD, *decisive, *corroborated])
    return taken, (wanted if taken is not wanted else None)


def moderate(
    submission: Submission,
    facts: Facts,
    policy: Policy,
    extra_checks: Sequence[Check] = (),
) -> Decision:
    """Decide what to do with one submission. Pure: same inputs, same Decision.

    The base mode gives APPROVE (PUBLISH), HOLD (PREMODERATE_ALL), or HOLD unless the
    author is trusted (PREMODERATE_FIRST); content checks can only make it stricter.
    ``extra_checks`` run after the built-ins (e.g. the learned spam filter); a check
    whose name is in ``policy.dry_run`` is recorded but not acted on.
    """
    verdicts: list[Verdict] = []
    for check in (*build_checks(policy), *extra_checks):
        name = str(getattr(check, "name", ""))
        dry = name in policy.dry_run
        try:
            facts.check_time()
            verdict = _run(check, submission, facts, dry)
        except OutOfTime:
            verdicts.append(over_budget(f"stopped before {name} finished"))
            break
        if verdict is not None:
            verdicts.append(verdict)
    action, held_instead_of = combine([v for v in verdicts if not v.dry_run])
    return Decision(action, tuple(verdicts), held_instead_of)
