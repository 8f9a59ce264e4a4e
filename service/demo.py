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


def demo_origins(host: str, port: int) -> list[str]:
    """The origins a browser uses for this server: 127.0.0.1 and localhost on its port, and the
    host it listens on when that is a specific name or address."""
    origins = [f"http://127.0.0.1:{port}", f"http://localhost:{port}"]
    if host not in ("127.0.0.1", "localhost", "0.0.0.0", "::", ""):  # noqa: S104
        bracketed = f"[{host}]" if ":" in host else host
        origins.append(f"http://{bracketed}:{port}")
    return origins


def seed_demo(session: Session, vault: Vault, *, origins: list[str], token_file: Path) -> None:
    """Creates the demo site once. When it exists already, only makes sure ``origins`` (this
    start's port) are allowed, so ``MARGIN_PORT=8002 make run`` after a run on 8000 still
    lets the demo page post; origins of earlier ports stay."""
    existing = session.exec(select(Site).where(Site.slug == DEMO_SITE)).first()
    if existing is not None:
        missing = [o for o in origins if o not in existing.allowed_origins]
        if missing:
            existing.allowed_origins = sorted({*existing.allowed_origins, *missing})
            session.add(existing)
            session.commit()
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
                thread_url=f"{origins[0]}/demo" if origins else None,
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
