"""A site's moderation policy, parsed by the pure core."""

from __future__ import annotations

from service import moderation
from service.sites.models import Site


def site_policy(site: Site) -> moderation.Policy:
    # Stored policies were validated when saved; parsing again keeps one source of truth.
    return moderation.Policy.from_dict(site.policy)
