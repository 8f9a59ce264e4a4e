"""Counting the report from the two append-only logs (the moderation events and the access
register): they outlive purged and erased comments, so the counts never shrink afterwards."""

from __future__ import annotations

import html
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from service.privacy.models import PiiAccess
from service.review.models import ModerationEvent
from service.sites.models import Site
from service.textcheck import readable
from service.transparency.models import MonthReport, RemovedCounts, TransparencyReport

REMOVED = {"rejected", "spam", "deleted"}

# Removal reasons by the rule that decided, named for what it found (the check that found it
# is not always the reason: the honeypot check also judged form timing until it stopped
# binning anyone for it).
REASONS = {
    "honeypot": "a hidden form field that people never see was filled in",
    "form_timing": "sent faster than the automatic moderation then allowed (records from "
    "before timing became a reason to hold a comment, never to remove it)",
    "blocked_link": "linked to a site, or gave a website, on the site's blocked list",
    "blocked_word": "contained a word on the site's blocked list",
    "spam_filter": "the learned spam filter, with an independent signal agreeing (older "
    "records: the filter alone)",
}

DEFINITIONS = {
    "received": "comments submitted (each is checked by the automatic moderation first)",
    "published": "comments that became visible, automatically or after review",
    "held": "comments put in the review queue instead of being published",
    "removed": "comments rejected, marked as spam or deleted by the automatic moderation "
    "(automatic) or by a moderator (human), by reason category (automatic reasons: "
    + "; ".join(f"{key}: {text}" for key, text in REASONS.items())
    + "; human reasons: the moderator's category)",
    "deleted_by_author": "comments their authors deleted",
    "erased_on_request": "comments whose personal data was erased at the author's request",
    "personal_data_access": "times someone looked at a commenter's email or IP address or "
    "exported a commenter's data, by the category of the stated purpose",
}


def _month(at: datetime) -> str:
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m")


def _months_back(now: datetime, count: int) -> list[str]:
    year, month = now.year, now.month
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return list(reversed(out))


_BY_CHECK = {"links": "blocked_link", "words": "blocked_word"}


def _category(verdict: dict[str, Any]) -> str | None:
    check = verdict.get("check")
    if not isinstance(check, str) or not check:
        return None
    if check == "honeypot":
        # Older records: the honeypot check also removed comments for typing speed.
        reason = verdict.get("reason")
        hidden = isinstance(reason, str) and "hidden form field" in reason
        return "honeypot" if hidden else "form_timing"
    return _BY_CHECK.get(check, check)


def _automatic_reason(details: dict[str, Any], action: str) -> str:
    """The rule that decided: the first acting verdict whose action is the decision's."""
    decided = action.removeprefix("auto_")
    for verdict in details.get("verdicts") or []:
        if (
            isinstance(verdict, dict)
            and verdict.get("action") == decided
            and not verdict.get("dry_run")
        ):
            category = _category(verdict)
            if category:
                return category
    return decided


def _human_reason(details: dict[str, Any], action: str) -> str:
    category = details.get("category")
    # readable(): the log keeps categories stored before they were checked, as they were.
    return readable(category) if isinstance(category, str) and category else action


def build_report(session: Session, site: Site, *, now: datetime, months: int) -> TransparencyReport:
    # No rows for months before the site existed (they could only ever show zeros). A site
    # imported with older history has events from before its row: those months count too.
    oldest = session.execute(
        sa_select(func.min(ModerationEvent.created_at)).where(
            col(ModerationEvent.site_id) == site.id
        )
    ).scalar()
    first = min(_month(site.created_at), _month(oldest) if oldest else "9999-12")
    labels = [label for label in _months_back(now, months) if label >= first] or [_month(now)]
    start = datetime.strptime(labels[0] + "-01", "%Y-%m-%d").replace(tzinfo=UTC)
    by_month = {label: MonthReport(month=label, removed=RemovedCounts()) for label in labels}
    events = session.execute(
        sa_select(
            col(ModerationEvent.created_at),
            col(ModerationEvent.actor),
            col(ModerationEvent.action),
            col(ModerationEvent.from_status),
            col(ModerationEvent.to_status),
            col(ModerationEvent.details),
        )
        .where(col(ModerationEvent.site_id) == site.id, col(ModerationEvent.created_at) >= start)
        .order_by(col(ModerationEvent.id))
    ).all()
    reasons: dict[str, Counter[str]] = {label: Counter() for label in labels}
    for created_at, actor, action, from_status, to_status, details in events:
        report = by_month.get(_month(created_at))
        if report is None:
            continue
        details = details or {}
        if action.startswith("auto_"):
            report.received += 1
        if action == "erasure":
            report.erased_on_request += int(details.get("comments", 0) or 0)
            continue
        if to_status is None or to_status == from_status:
            continue
        if to_status == "approved":
            report.published += 1
        elif to_status == "pending":
            report.held += 1
        elif to_status in REMOVED:
            if actor == "author":
                report.deleted_by_author += 1
            elif actor == "system":
                report.removed.total += 1
                report.removed.automatic += 1
                reasons[report.month][_automatic_reason(details, action)] += 1
            else:
                report.removed.total += 1
                report.removed.human += 1
                reasons[report.month][_human_reason(details, action)] += 1
    for label, counter in reasons.items():
        by_month[label].removed.by_reason = dict(sorted(counter.items()))
    access = session.execute(
        sa_select(
            col(PiiAccess.created_at),
            col(PiiAccess.actor),
            col(PiiAccess.moderator_id),
            col(PiiAccess.kind),
            col(PiiAccess.category),
        ).where(col(PiiAccess.site_id) == site.id, col(PiiAccess.created_at) >= start)
    ).all()
    # One export of many comments writes one entry per comment but is one request.
    requests = {(_month(at), actor, mod, kind, cat, at) for at, actor, mod, kind, cat in access}
    for month, _actor, _mod, _kind, category, _at in requests:
        report = by_month.get(month)
        if report is not None:
            report.personal_data_access[category] = report.personal_data_access.get(category, 0) + 1
    return TransparencyReport(
        site=site.slug,
        name=site.name,
        generated_at=now,
        months=[by_month[label] for label in labels],
        definitions=DEFINITIONS,
    )


def _month_name(label: str) -> str:
    """ "2026-11" as "November 2026"."""
    return datetime.strptime(label + "-01", "%Y-%m-%d").strftime("%B %Y")


def _readable(at: datetime) -> str:
    at = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC)
    return f"{at.day} {at:%B %Y, %H:%M} UTC"


def render_html(report: TransparencyReport) -> str:
    """A plain page: one table, no script, everything escaped."""
    e = html.escape
    rows = []
    for m in reversed(report.months):
        reasons = ", ".join(f"{e(k)}: {v}" for k, v in m.removed.by_reason.items()) or "-"
        access = ", ".join(f"{e(k)}: {v}" for k, v in sorted(m.personal_data_access.items()))
        rows.append(
            "<tr>"
            f"<td>{e(_month_name(m.month))}</td><td>{m.received}</td><td>{m.published}</td><td>{m.held}</td>"
            f"<td>{m.removed.total}</td><td>{m.removed.automatic}</td><td>{m.removed.human}</td>"
            f"<td>{reasons}</td><td>{m.deleted_by_author}</td><td>{m.erased_on_request}</td>"
            f"<td>{access or '-'}</td>"
            "</tr>"
        )
    definitions = "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in report.definitions.items())
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>Transparency report: {e(report.name)}</title>"
        "<style>body{font:15px/1.5 system-ui,sans-serif;margin:2em;max-width:80em}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;"
        "text-align:right}td:first-child,th:first-child{text-align:left}</style></head><body>"
        f"<h1>Transparency report: {e(report.name)}</h1>"
        f"<p>Moderation and access to personal data, by month (UTC). Generated "
        f"{e(_readable(report.generated_at))}. No personal data is shown.</p>"
        "<table><thead><tr><th>month</th><th>received</th><th>published</th><th>held</th>"
        "<th>removed</th><th>automatic</th><th>human</th><th>removal reasons</th>"
        "<th>deleted by author</th><th>erased on request</th>"
        "<th>personal-data access</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table><h2>Definitions</h2><dl>{definitions}</dl>"
        "</body></html>"
    )
