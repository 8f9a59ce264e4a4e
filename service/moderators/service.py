"""Moderator tokens: issued once, stored only as a SHA-256, found through a unique index.

A token can expire (``expires_at``) and be revoked (``revoked_at``); either is refused with 401.
Rotating gives the same moderator a new token and the old one stops working at once. A token
with the site-admin scope manages its own sites and the tokens of their moderators, never
those of a moderator who also acts on a site the admin does not (docs/operations.md, "Tokens").
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from sqlmodel import Session, col, select

from service.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from service.moderators.models import Moderator, ModeratorSite, ModeratorView
from service.sites.models import Site

TOKEN_PREFIX = "mgn_"  # noqa: S105  (a prefix, not a secret)
# The longest lifetime a token may be given (an expiry is a limit, not a far-off formality).
MAX_LIFETIME = timedelta(days=3650)
_DURATION = re.compile(r"^(\d{1,5})([hdw])$")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


@dataclass(frozen=True)
class Principal:
    """An authenticated moderator and the sites they may act on."""

    moderator_id: int
    name: str
    site_ids: frozenset[int]
    can_reveal_pii: bool
    site_admin: bool = False


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def parse_expiry(value: str, now: datetime) -> datetime:
    """``30d``, ``12h``, ``2w`` from now, a date (``2027-01-31``: expires at 00:00 UTC that day)
    or an ISO 8601 time with its offset. Must lie in the future, within ten years."""
    text = value.strip()
    match = _DURATION.match(text)
    if match:
        expires = now + int(match.group(1)) * _UNITS[match.group(2)]
    else:
        try:
            if len(text) == 10:
                expires = datetime.combine(date.fromisoformat(text), time(0), tzinfo=UTC)
            else:
                expires = datetime.fromisoformat(text)
        except ValueError as exc:
            raise Invalid(
                "expires", f"{value!r}: use a duration (30d, 12h, 2w) or a date (2027-01-31)"
            ) from exc
        if expires.tzinfo is None:
            raise Invalid("expires", f"{value!r}: give the time zone, e.g. 2027-01-31T00:00Z")
    checked = check_expiry(expires, now)
    assert checked is not None
    return checked


def check_expiry(expires: datetime | None, now: datetime) -> datetime | None:
    if expires is None:
        return None
    if expires.tzinfo is None:
        raise Invalid("expires_at", "give the time zone (e.g. 2027-01-31T00:00:00Z)")
    if expires <= now:
        raise Invalid("expires_at", "must be in the future")
    if expires - now > MAX_LIFETIME:
        raise Invalid("expires_at", "must be within ten years")
    return expires.astimezone(UTC)


def create_moderator(
    session: Session,
    *,
    name: str,
    site_slugs: list[str],
    pii: bool,
    now: datetime,
    site_admin: bool = False,
    expires_at: datetime | None = None,
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
    token = _new_token()
    moderator = Moderator(
        name=name,
        token_hash=hash_token(token),
        can_reveal_pii=pii,
        site_admin=site_admin,
        created_at=now,
        expires_at=check_expiry(expires_at, now),
    )
    session.add(moderator)
    session.flush()
    assert moderator.id is not None
    for site in sites:
        assert site.id is not None
        session.add(ModeratorSite(moderator_id=moderator.id, site_id=site.id))
    session.commit()
    return moderator, token


def authenticate(session: Session, token: str | None, now: datetime | None = None) -> Principal:
    """The token's moderator, or 401. ``now`` (the app's clock) decides expiry."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        raise Unauthorized("a valid moderator token is required")
    # Looking up by the hash of a 256-bit random token leaks nothing useful through timing.
    moderator = session.exec(
        select(Moderator).where(Moderator.token_hash == hash_token(token))
    ).first()
    if moderator is None:
        raise Unauthorized("a valid moderator token is required")
    if moderator.revoked_at is not None:
        raise Unauthorized("this moderator token was revoked; ask a site admin for a new one")
    current = now or datetime.now(UTC)
    if moderator.expires_at is not None and moderator.expires_at <= current:
        raise Unauthorized(
            f"this moderator token expired at {moderator.expires_at:%Y-%m-%d %H:%M} UTC; "
            "ask a site admin to rotate it"
        )
    assert moderator.id is not None
    site_ids = session.exec(
        select(ModeratorSite.site_id).where(ModeratorSite.moderator_id == moderator.id)
    ).all()
    return Principal(
        moderator_id=moderator.id,
        name=moderator.name,
        site_ids=frozenset(site_ids),
        can_reveal_pii=moderator.can_reveal_pii,
        site_admin=moderator.site_admin,
    )


def require_site_admin(principal: Principal) -> None:
    if not principal.site_admin:
        raise Forbidden("this token may not manage sites or tokens (it lacks the site-admin scope)")


def _sites_of(session: Session, moderator_ids: Iterable[int]) -> dict[int, list[tuple[int, str]]]:
    rows = session.exec(
        select(ModeratorSite.moderator_id, Site.id, Site.slug)
        .join(Site, col(Site.id) == col(ModeratorSite.site_id))
        .where(col(ModeratorSite.moderator_id).in_(list(moderator_ids)))
        .order_by(col(Site.slug))
    ).all()
    found: dict[int, list[tuple[int, str]]] = {}
    for moderator_id, site_id, slug in rows:
        assert site_id is not None
        found.setdefault(moderator_id, []).append((site_id, slug))
    return found


def view(moderator: Moderator, sites: list[str], now: datetime) -> ModeratorView:
    assert moderator.id is not None
    state: Literal["active", "expired", "revoked"]
    if moderator.revoked_at is not None:
        state = "revoked"
    elif moderator.expires_at is not None and moderator.expires_at <= now:
        state = "expired"
    else:
        state = "active"
    return ModeratorView(
        id=moderator.id,
        name=moderator.name,
        sites=sites,
        can_reveal_pii=moderator.can_reveal_pii,
        site_admin=moderator.site_admin,
        created_at=moderator.created_at,
        expires_at=moderator.expires_at,
        revoked_at=moderator.revoked_at,
        state=state,
    )


def list_moderators(
    session: Session, now: datetime, *, site_id: int | None = None
) -> list[ModeratorView]:
    """Every moderator (the command line), or those acting on one site (a site admin)."""
    query = select(Moderator).order_by(col(Moderator.id))
    if site_id is not None:
        members = select(ModeratorSite.moderator_id).where(ModeratorSite.site_id == site_id)
        query = query.where(col(Moderator.id).in_(members))
    moderators = session.exec(query).all()
    sites = _sites_of(session, [m.id for m in moderators if m.id is not None])
    return [view(m, [slug for _, slug in sites.get(m.id or 0, [])], now) for m in moderators]


def _managed(session: Session, moderator_id: int, within: frozenset[int] | None) -> Moderator:
    """The moderator, locked for the change; with ``within`` (a site admin's sites) only one
    whose every site is among them: otherwise the same 404 as for no moderator at all."""
    moderator = session.exec(
        select(Moderator).where(Moderator.id == moderator_id).with_for_update()
    ).first()
    if moderator is None:
        raise NotFound(f"no moderator {moderator_id}")
    if within is not None:
        rows = _sites_of(session, [moderator_id]).get(moderator_id, [])
        theirs = {site_id for site_id, _ in rows}
        if not theirs or not theirs <= within:
            raise NotFound(f"no moderator {moderator_id}")
    return moderator


def revoke_moderator(
    session: Session, moderator_id: int, now: datetime, *, within: frozenset[int] | None = None
) -> ModeratorView:
    """The token stops working at once; revoking twice keeps the first time."""
    moderator = _managed(session, moderator_id, within)
    if moderator.revoked_at is None:
        moderator.revoked_at = now
        session.add(moderator)
    session.commit()
    return _fresh_view(session, moderator, now)


def rotate_token(
    session: Session,
    moderator_id: int,
    now: datetime,
    *,
    expires_at: datetime | None = None,
    within: frozenset[int] | None = None,
) -> tuple[ModeratorView, str]:
    """A new token for the same moderator (same sites and scopes); the old one stops working
    at once. The new token's expiry is ``expires_at`` (None: never)."""
    moderator = _managed(session, moderator_id, within)
    if moderator.revoked_at is not None:
        raise Conflict(f"moderator {moderator_id} was revoked; create a new moderator instead")
    token = _new_token()
    moderator.token_hash = hash_token(token)
    moderator.expires_at = check_expiry(expires_at, now)
    session.add(moderator)
    session.commit()
    return _fresh_view(session, moderator, now), token


def _fresh_view(session: Session, moderator: Moderator, now: datetime) -> ModeratorView:
    assert moderator.id is not None
    sites = _sites_of(session, [moderator.id]).get(moderator.id, [])
    return view(moderator, [slug for _, slug in sites], now)
