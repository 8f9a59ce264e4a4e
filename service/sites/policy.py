"""A site's moderation policy, parsed by the pure core."""

from __future__ import annotations

import functools
import json
from typing import Any

from service import moderation
from service.sites.models import Site
from service.textcheck import readable

# The parsed policy of each policy object seen lately, by identity. A policy is replaced as a
# whole when it changes (``site.policy = ...``; the JSON column would not notice an edit in
# place either), so the same object always means the same policy, and a request on a cached
# site skips even serialising it. The entry keeps the object alive, so its id is not reused.
_BY_OBJECT: dict[int, tuple[Any, moderation.Policy]] = {}
_BY_OBJECT_MAX = 256


def site_policy(site: Site) -> moderation.Policy:
    """The parsed policy. Parsing (and compiling a 10,000-term word list) is cached by the
    policy's content, and the result by the policy object."""
    raw = site.policy
    seen = _BY_OBJECT.get(id(raw))
    if seen is not None and seen[0] is raw:
        return seen[1]
    # readable(): a policy saved before its texts were checked may hold a lone surrogate,
    # which no answer could carry; shown (and matched) as a visible escape instead.
    parsed = _parse(json.dumps(readable(raw), sort_keys=True, separators=(",", ":")))
    if len(_BY_OBJECT) >= _BY_OBJECT_MAX:
        _BY_OBJECT.clear()
    _BY_OBJECT[id(raw)] = (raw, parsed)
    return parsed


@functools.lru_cache(maxsize=256)
def _parse(canonical: str) -> moderation.Policy:
    # Stored policies were validated when saved; parsing again keeps one source of truth.
    return moderation.Policy.from_dict(json.loads(canonical))
