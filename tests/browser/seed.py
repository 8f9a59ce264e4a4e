"""Fast seeding of large threads straight into the database (for browser tests and the bench)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, update
from sqlmodel import col, select

from service.comments.models import Comment, CommentStatus, Thread
from service.db import Database
from service.sites.models import Site


def seed_thread(
    db: Database, site_slug: str, key: str, roots: int, *, replies_every: int = 0
) -> list[int]:
    """``roots`` approved top-level comments; every ``replies_every``-th gets two replies.
    Returns the top-level ids in order."""
    now = datetime.now(UTC) - timedelta(days=2)
    with db.write() as session:
        site = session.exec(select(Site).where(Site.slug == site_slug)).one()
        assert site.id is not None
        thread = Thread(
            site_id=site.id, key=key, title=f"Seeded {key}", created_at=now, approved_count=0
        )
        session.add(thread)
        session.flush()
        assert thread.id is not None

        def row(i: int, parent: int | None, root: int | None, depth: int) -> dict[str, object]:
            body = f"Seeded comment {i} on {key}"
            return {
                "site_id": site.id,
                "thread_id": thread.id,
                "parent_id": parent,
                "root_id": root,
                "depth": depth,
                "author_name": f"Reader {i}",
                "website": None,
                "body": body,
                "html": f"<p>{body}</p>",
                "status": CommentStatus.APPROVED.value,
                "moderation": {"actor": "system"},
                "reason": "published",
                "reply_count": 0,
                "flag_count": 0,
                "avatar": hashlib.sha256(str(i).encode()).hexdigest()[:16],
                "edit_token_hash": hashlib.sha256(f"seed-{key}-{i}".encode()).hexdigest(),
                "dedupe_key": hashlib.sha256(body.encode()).hexdigest(),
                "created_at": now + timedelta(seconds=i),
                "status_changed_at": now + timedelta(seconds=i),
            }

        session.execute(insert(Comment), [row(i, None, None, 0) for i in range(roots)])
        ids = list(
            session.exec(
                select(Comment.id).where(Comment.thread_id == thread.id).order_by(col(Comment.id))
            ).all()
        )
        total = roots
        if replies_every:
            replies = []
            for n, root_id in enumerate(ids):
                if n % replies_every == 0:
                    replies.append(row(roots + 2 * n, root_id, root_id, 1))
                    replies.append(row(roots + 2 * n + 1, root_id, root_id, 1))
            session.execute(insert(Comment), replies)
            session.execute(
                update(Comment)
                .where(
                    col(Comment.id).in_([i for n, i in enumerate(ids) if n % replies_every == 0])
                )
                .values(reply_count=2)
            )
            total += len(replies)
        session.execute(
            update(Thread).where(col(Thread.id) == thread.id).values(approved_count=total)
        )
        session.commit()
    return [i for i in ids if i is not None]
