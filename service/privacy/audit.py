"""``margin audit verify``: walk both append-only logs of every site and check their hash chains."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from service.privacy.models import PiiAccess
from service.privacy.register import verify_register
from service.review.events import verify_chain
from service.review.models import ModerationEvent
from service.sites.models import Site

BATCH = 2000


@dataclass
class AuditReport:
    events_checked: int = 0
    access_checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _site_ids(session: Session, slug: str | None) -> list[tuple[int, str]]:
    query = select(Site.id, Site.slug).order_by(col(Site.id))
    if slug is not None:
        query = query.where(Site.slug == slug)
    return [(int(sid), str(s)) for sid, s in session.exec(query).all() if sid is not None]


def verify_logs(session: Session, *, site_slug: str | None = None) -> AuditReport:
    report = AuditReport()
    for site_id, slug in _site_ids(session, site_slug):
        events = list(
            session.exec(
                select(ModerationEvent)
                .where(ModerationEvent.site_id == site_id)
                .order_by(col(ModerationEvent.id))
            ).all()
        )
        report.events_checked += len(events)
        report.problems.extend(f"site {slug}: {p}" for p in verify_chain(events))
        entries = list(
            session.exec(
                select(PiiAccess).where(PiiAccess.site_id == site_id).order_by(col(PiiAccess.id))
            ).all()
        )
        report.access_checked += len(entries)
        report.problems.extend(f"site {slug}: {p}" for p in verify_register(entries))
    return report


LOG_TABLES = ("moderation_events", "pii_access")


def app_role_sql(role: str, *, database: str | None = None) -> list[str]:
    """Grants for the role the service connects as on PostgreSQL: full use of the working
    tables, but only SELECT and INSERT on the two logs, so the app cannot rewrite history even
    if the append-only triggers were dropped. Migrations run as the owner, not this role."""
    if not (role.replace("_", "").isalnum() and role[0].isalpha() and len(role) <= 63):
        raise ValueError("role must be letters, digits and underscores, starting with a letter")
    statements = [
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}",
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
    ]
    for table in LOG_TABLES:
        statements.append(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {role}")
    statements.append(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM {role}")
    if database is not None:
        statements.insert(0, f'GRANT CONNECT ON DATABASE "{database}" TO {role}')
    return statements
