"""Listing and changing sites (``margin site list|show|update`` and the site-admin API).

Every change lands in the site's hash-chained event log with its before and after, like a
policy change; origins are normalised as at creation, and the mode goes through the policy
parser, so a site can never hold a setting the service would refuse.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from service import moderation
from service.errors import Invalid
from service.review.events import append_event
from service.review.models import Actor
from service.sites.models import Site, SiteAdminView, SiteUpdate
from service.sites.policy import site_policy
from service.sites.service import normalise_origin
from service.textcheck import multi_line

MAX_ORIGINS = 50


def admin_view(site: Site) -> SiteAdminView:
    return SiteAdminView(
        site=site.slug,
        name=site.name,
        allowed_origins=list(site.allowed_origins),
        moderation_mode=site_policy(site).mode.value,
        erasure_policy=site.erasure_policy,
        created_at=site.created_at,
    )


def list_sites(session: Session, site_ids: frozenset[int] | None = None) -> list[SiteAdminView]:
    query = select(Site).order_by(col(Site.slug))
    if site_ids is not None:
        query = query.where(col(Site.id).in_(list(site_ids)))
    return [admin_view(site) for site in session.exec(query).all()]


def _origins(values: list[str], field: str) -> set[str]:
    found = set()
    for value in values:
        try:
            found.add(normalise_origin(value))
        except ValueError as exc:
            raise Invalid(field, str(exc)) from exc
    return found


def update_site(
    session: Session,
    site: Site,
    change: SiteUpdate,
    now: datetime,
    *,
    actor: Actor,
    moderator_id: int | None = None,
) -> SiteAdminView:
    """Apply ``change`` and commit; an empty change is refused, so the log only holds changes."""
    assert site.id is not None
    before = admin_view(site)
    add = _origins(change.add_origins, "add_origins")
    remove = _origins(change.remove_origins, "remove_origins")
    unknown = sorted(remove - set(site.allowed_origins))
    if unknown:
        raise Invalid("remove_origins", f"not an allowed origin of this site: {', '.join(unknown)}")
    if add & remove:
        raise Invalid("add_origins", "an origin cannot be added and removed at once")
    origins = sorted((set(site.allowed_origins) | add) - remove)
    if len(origins) > MAX_ORIGINS:
        raise Invalid("add_origins", f"a site may have at most {MAX_ORIGINS} origins")
    if change.name is not None:
        name = change.name.strip()
        if not name:
            raise Invalid("name", "must not be blank")
        site.name = name
    if origins != site.allowed_origins:
        site.allowed_origins = origins
    if change.mode is not None and change.mode != before.moderation_mode:
        try:
            parsed = moderation.Policy.from_dict({**site.policy, "mode": change.mode})
        except moderation.PolicyError as exc:
            raise Invalid(f"policy.{exc.field}", exc.message) from exc
        site.policy = parsed.to_dict()  # a new object: the policy caches notice (sites.policy)
    after = admin_view(site)
    if after == before:
        raise Invalid("change", "nothing to change: give a new name, origins or mode")
    session.add(site)
    append_event(
        session,
        site_id=site.id,
        actor=actor,
        moderator_id=moderator_id,
        action="site_update",
        at=now,
        reason=multi_line(change.reason, "reason").strip(),
        details={
            "before": before.model_dump(mode="json", exclude={"created_at"}),
            "after": after.model_dump(mode="json", exclude={"created_at"}),
        },
    )
    session.commit()
    return after
