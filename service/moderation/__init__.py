"""Margin's pure moderation core: standard library only, no I/O, no clock, no randomness.

The caller supplies every fact (including "now") and gets back a Decision with every
verdict and its plain-words reason. See ``pipeline.moderate`` for the decision rules.
"""

from __future__ import annotations

# Importing the check modules registers the built-in checks.
from . import checks as _checks
from . import links as _links
from . import words as _words
from .core import (
    BUDGET_CHECK,
    OVER_BUDGET_REASON,
    Action,
    AuthorHistory,
    Budget,
    Check,
    Decision,
    Evidence,
    Facts,
    Mode,
    OutOfTime,
    Submission,
    Verdict,
    over_budget,
    strictest,
)
from .limits import RateLimitExceeded, flag_verdict, rate_limit_verdict
from .links import find_links
from .matcher import Matcher, compile_matcher
from .normalise import normalised_key
from .pipeline import build_checks, combine, moderate
from .policy import DEFAULT_RATE_LIMITS, Policy, PolicyError, RateLimit
from .presets import DEFAULT_SHORTENERS, SUSPECT_PRESETS
from .registry import register

del _checks, _links, _words

__all__ = [
    "BUDGET_CHECK",
    "DEFAULT_RATE_LIMITS",
    "DEFAULT_SHORTENERS",
    "OVER_BUDGET_REASON",
    "SUSPECT_PRESETS",
    "Action",
    "AuthorHistory",
    "Budget",
    "Check",
    "Decision",
    "Evidence",
    "Facts",
    "Matcher",
    "Mode",
    "OutOfTime",
    "Policy",
    "PolicyError",
    "RateLimit",
    "RateLimitExceeded",
    "Submission",
    "Verdict",
    "build_checks",
    "combine",
    "compile_matcher",
    "find_links",
    "flag_verdict",
    "moderate",
    "normalised_key",
    "over_budget",
    "rate_limit_verdict",
    "register",
    "strictest",
]
