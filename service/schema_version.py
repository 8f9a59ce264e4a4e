"""Which migration the database is at, and which is the latest, without importing Alembic.

Readiness asks this on every probe, and a worker process should not carry Alembic (about
12 MB of resident memory) only to read one row and the migration files' headers. Upgrading
(`service.migrate`) still uses Alembic itself; a test checks both agree on the head.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def _assignments(source: str) -> dict[str, object]:
    """Module-level ``name = <literal>`` assignments of a migration file."""
    found: dict[str, object] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and node.value is not None:
                    try:
                        found[target.id] = ast.literal_eval(node.value)
                    except ValueError:
                        continue
    return found


@cache
def head_revision(versions: Path = MIGRATIONS / "versions") -> str | None:
    """The one revision no other revision builds on (None when there are no migrations)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in versions.glob("*.py"):
        values = _assignments(path.read_text(encoding="utf-8"))
        revision = values.get("revision")
        if not isinstance(revision, str):
            continue
        revisions.add(revision)
        down = values.get("down_revision")
        if isinstance(down, str):
            parents.add(down)
        elif isinstance(down, tuple | list):
            parents.update(d for d in down if isinstance(d, str))
    heads = revisions - parents
    if len(heads) > 1:
        raise RuntimeError(f"migrations have several heads: {sorted(heads)}")
    return heads.pop() if heads else None


def current_revision(engine: Engine) -> str | None:
    """The revision recorded in ``alembic_version`` (None for a database never migrated)."""
    with engine.connect() as connection:
        try:
            row = connection.execute(text("SELECT version_num FROM alembic_version")).first()
        except DBAPIError:
            connection.rollback()
            return None
    return None if row is None else str(row[0])
