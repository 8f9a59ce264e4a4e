"""Moderator tokens: issued once, stored only as a SHA-256, found through a unique index."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from service.errors import Invalid, Unauthorized
from service.moderators.models import Moderator, ModeratorSite
from service.sites.models import Site

TOKEN_PREFIX = "mgn_"  # noqa: S105  (a prefix, not a secret)


@dataclass(frozen=True)
class Principal:
    """An authenticated moderator and the sites they may act on."""

    moderator_id: int
    name: str
    site_ids: frozenset[int]
    can_reveal_pii: bool


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_moderator(
    session: Session, *, name: str, site_slugs: list[str], pii: bool, now: datetime
) -> tuple[Moderator, str]:
    """Returns the moderator and the token, which exists only in this return value."""
    name = name.strip()
    if not 0 < len(name) <= 100:
        raise Invalid("name", "must be 1-100 characters")
    if not site_slugs:
        raise Invalid("site", "a moderator needs at least one site")
    sites = session.exec(select(Site).where(col(Site.slug).in_(site_slugs))).all()
    missing = set(site_slugs) - {s.slug for s in sites}
    if missing:
        raise Invalid("site", f"no such site: {', '.join(sorted(missing))}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    moderator = Moderator(
        name=name, token_hash=hash_token(token), can_reveal_pii=pii, created_at=now
    )
    session.add(moderator)
    session.flush()
    assert moderator.id is not None
    for site in sites:
        assert site.id is not None
        session.add(ModeratorSite(moderator_id=moderator.id, site_id=site.id))
    session.commit()
    return moderator, token


def authenticate(session: Session, token: str | None) -> Principal:
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        raise Unauthorized("a valid moderator token is required")
    # Looking up by the hash of a 256-bit random token leaks nothing useful through timing.
    moderator = session.exec(
        select(Moderator).where(Moderator.token_hash == hash_token(token))
    ).first()
    if moderator is None or moderator.revoked_at is not None:
        raise Unauthorized("a valid moderator token is required")
    assert moderator.id is not None
    site_ids = session.exec(
        select(ModeratorSite.site_id).where(ModeratorSite.moderator_id == moderator.id)
    ).all()
    return Principal(
        moderator_id=moderator.id,
        name=moderator.name,
        site_ids=frozenset(site_ids),
        can_reveal_pii=moderator.can_reveal_pii,
    )
