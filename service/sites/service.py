"""Creating and finding sites."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from service import moderation
from service.comments.inputs import LIMITS
from service.errors import Conflict, Invalid, NotFound
from service.sites.models import Site, SitePublic
from service.sites.policy import site_policy
from service.textcheck import http_url, origin_of

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def normalise_origin(value: str) -> str:
    url = http_url(value, "origin")
    origin = origin_of(url)
    if url.rstrip("/") != origin:
        raise Invalid("origin", f"{value!r} must be an origin only, like https://news.example.org")
    return origin


def create_site(
    session: Session,
    *,
    slug: str,
    name: str | None,
    origins: list[str],
    now: datetime,
    policy: dict[str, Any] | None = None,
) -> Site:
    if not SLUG.match(slug):
        raise Invalid("slug", "use 1-63 lowercase letters, digits and hyphens")
    try:
        parsed = moderation.Policy.from_dict(policy or {})
    except moderation.PolicyError as exc:
        raise Invalid(f"policy.{exc.field}", exc.message) from exc
    try:
        allowed = sorted({normalise_origin(o) for o in origins})
    except ValueError as exc:
        raise Invalid("origin", str(exc)) from exc
    if session.exec(select(Site).where(Site.slug == slug)).first() is not None:
        raise Conflict(f"a site with slug {slug!r} already exists")
    site = Site(
        slug=slug,
        name=name or slug,
        allowed_origins=allowed,
        policy=parsed.to_dict(),
        created_at=now,
    )
    session.add(site)
    session.commit()
    return site


def get_site(session: Session, slug: str) -> Site:
    site = session.exec(select(Site).where(Site.slug == slug)).first()
    if site is None:
        raise NotFound(f"no site {slug!r}")
    return site


def public_config(site: Site, *, edit_window_seconds: int, max_body_chars: int) -> SitePublic:
    policy = site_policy(site)
    return SitePublic(
        site=site.slug,
        name=site.name,
        edit_window_seconds=edit_window_seconds,
        moderation_mode=policy.mode.value,
        max_depth=5,
        limits={**LIMITS, "body": min(LIMITS["body"], max_body_chars)},
    )
