"""Site table and its public view."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import JSON, Column, String
from sqlmodel import Field, SQLModel

from service.db import UTCDateTime


class Site(SQLModel, table=True):
    __tablename__ = "sites"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    name: str = Field(sa_column=Column(String(200), nullable=False))
    # Exact origins ("https://news.example.org") that may embed the widget and write.
    allowed_origins: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # The moderation policy as the pure core's Policy.to_dict(); validated on every change.
    policy: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # What happens to an erased person's comments: "anonymise" keeps the text, "delete" removes it.
    erasure_policy: str = Field(
        default="anonymise",
        sa_column=Column(String(16), nullable=False, server_default="anonymise"),
    )
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class SitePublic(SQLModel):
    """What the widget may know about a site."""

    site: str
    name: str
    edit_window_seconds: int
    moderation_mode: str
    max_depth: int
    limits: dict[str, int]


class SiteAdminView(SQLModel):
    """A site as its moderators and the command line see it."""

    site: str = Field(description="the slug used in every URL")
    name: str
    allowed_origins: list[str] = Field(
        description="exact origins whose pages may embed the widget and post"
    )
    moderation_mode: str = Field(description="premoderate_all, premoderate_first or publish")
    erasure_policy: str = Field(description="anonymise or delete, for erased people's comments")
    created_at: datetime


class SiteUpdate(SQLModel):
    """A change to a site: only the fields given change. Logged with its reason."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    add_origins: list[str] = Field(
        default_factory=list,
        max_length=50,
        description="origins to allow, like https://www.example.org",
    )
    remove_origins: list[str] = Field(default_factory=list, max_length=50)
    mode: Literal["premoderate_all", "premoderate_first", "publish"] | None = None
    reason: str = Field(
        default="", max_length=500, description="why, in plain words (kept in the event log)"
    )
