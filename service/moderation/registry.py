"""Name -> factory registry for checks.

Built-in checks register themselves here exactly as a plug-in would, so the pipeline has
no special cases: ``Policy.checks`` names the registered checks to run, in order.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from .core import Check

if TYPE_CHECKING:
    from .policy import Policy

CheckFactory = Callable[["Policy"], Check | None]
"""Builds a check for a policy; returns None when the policy makes the check inert."""

# Names end up in policies stored as JSON and in audit records: keep them boring.
NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,39}")

# The base policy checks. They always run first and cannot be disabled or dry-run:
# turning them off would silently publish what the site asked to review.
BASE_CHECKS = ("mode", "trust")

_FACTORIES: dict[str, CheckFactory] = {}


def register(name: str) -> Callable[[CheckFactory], CheckFactory]:
    """Decorator: register ``factory`` under ``name``. Re-registering a name replaces it
    (useful in tests); names must match ``NAME_RE``."""
    if not NAME_RE.fullmatch(name):
        raise ValueError(f"check name {name!r} must be lowercase letters, digits and _")

    def decorate(factory: CheckFactory) -> CheckFactory:
        _FACTORIES[name] = factory
        return factory

    return decorate


def factory(name: str) -> CheckFactory:
    """The factory registered under ``name``; KeyError when unknown."""
    return _FACTORIES[name]


def registered() -> frozenset[str]:
    """Every registered check name."""
    return frozenset(_FACTORIES)
