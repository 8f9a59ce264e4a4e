"""The demo site ``make run`` serves: a site, an article thread with a few comments, a moderator."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from sqlmodel import Session, select

from service.clock import system_clock
from service.comments.inputs import CommentCreate
from service.comments.writing import WriteContext, submit
from service.moderators.service import authenticate, create_moderator
from service.privacy.crypto import Vault
from service.review.inputs import DecisionAction, DecisionRequest
from service.review.service import decide
from service.sites.models import Site
from service.sites.service import create_site

DEMO_SITE = "demo"
DEMO_THREAD = "/2020/12/18/zoom-data"
DEMO_COMMENTS = [
    (
        "Ana Reader",
        "ana@example.org",
        "Handing meeting data to a government should have been "
        "disclosed to every user. Is there any word on *which* meetings were affected?",
    ),
    (
        "Tomas",
        "tomas@example.net",
        "The article links the transparency report, but it only "
        "covers requests, not the meetings that were shut down. That gap matters.",
    ),
]


def seed_demo(session: Session, vault: Vault, *, origins: list[str], token_file: Path) -> None:
    """Idempotent: does nothing when the demo site exists."""
    if session.exec(select(Site).where(Site.slug == DEMO_SITE)).first() is not None:
        return
    now = system_clock()
    site = create_site(
        session,
        slug=DEMO_SITE,
        name="The Daily Margin (demo)",
        origins=origins,
        now=now,
        policy={"mode": "premoderate_first"},
    )
    _, token = create_moderator(
        session, name="Demo moderator", site_slugs=[DEMO_SITE], pii=True, now=now
    )
    token_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token + "\n")
    principal = authenticate(session, token)
    ctx = WriteContext(
        now=now - timedelta(hours=2),
        client_ip=None,
        idempotency_key=None,
        edit_window=timedelta(minutes=15),
        ip_retention=timedelta(days=30),
    )
    for name, email, body in DEMO_COMMENTS:
        created = submit(
            session,
            session=session,
            site=site,
            data=CommentCreate(
                thread=DEMO_THREAD,
                author_name=name,
                email=email,
                body=body,
                thread_title="Zoom handed meeting data to a government, then shut meetings down",
            ),
            vault=vault,
            ctx=ctx,
        )
        if created.status != "approved":
            decide(
                session,
                principal,
                created.id,
                DecisionRequest(action=DecisionAction.APPROVE, reason="demo content"),
                now,
            )
