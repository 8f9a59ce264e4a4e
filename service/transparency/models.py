"""The report's shape: counts only, never a name, email, IP, comment text or free-text reason."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import SQLModel


class RemovedCounts(SQLModel):
    total: int = 0
    automatic: int = 0  # decided by the automatic moderation
    human: int = 0  # decided by a moderator
    by_reason: dict[str, int] = {}  # reason category (a rule name or a moderator's category)


class MonthReport(SQLModel):
    month: str  # "YYYY-MM", UTC
    received: int = 0
    published: int = 0
    held: int = 0
    removed: RemovedCounts = RemovedCounts()
    deleted_by_author: int = 0
    erased_on_request: int = 0
    personal_data_access: dict[str, int] = {}  # requests by category (moderation, legal, ...)


class TransparencyReport(SQLModel):
    site: str
    name: str
    generated_at: datetime
    months: list[MonthReport]
    definitions: dict[str, str]
