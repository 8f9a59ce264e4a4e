"""A site's moderation policy, parsed by the pure core."""

from __future__ import annotations

import functools
import json

from service import moderation
from service.sites.models import Site


def site_policy(site: Site) -> moderation.Policy:
    """The parsed policy. Parsing (and compiling a 10,000-term word list) is cached by the
    policy's content, so a request pays only for serialising the key."""
    return _parse(json.dumps(site.policy, sort_keys=True, separators=(",", ":")))


@functools.lru_cache(maxsize=256)
def _parse(canonical: str) -> moderation.Policy:
    # Stored policies were validated when saved; parsing again keeps one source of truth.
    return moderation.Policy.from_dict(json.loads(canonical))
