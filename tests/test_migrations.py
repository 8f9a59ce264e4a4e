"""Migrations build, on both databases, exactly the schema the models describe."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

import service.models  # noqa: F401
from service import schema_version
from service.db import metadata
from service.migrate import alembic_config, head_revision, upgrade


def _diff(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def test_sqlite_upgrade_matches_models_and_downgrades(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    assert _diff(url) == []
    command.downgrade(alembic_config(url), "base")
    engine = create_engine(url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    upgrade(url)
    assert _diff(url) == []


def test_postgres_upgrade_matches_models(postgres_url: str) -> None:
    # The session fixture already migrated this database from empty.
    assert _diff(postgres_url) == []
    engine = create_engine(postgres_url)
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head_revision()
        # Migration 0007: comments are vacuumed often enough for index-only history counts.
        options = conn.execute(
            text("SELECT reloptions FROM pg_class WHERE relname = 'comments'")
        ).scalar_one()
        assert "autovacuum_vacuum_insert_scale_factor=0.01" in options
    engine.dispose()


def test_readiness_reads_revisions_as_alembic_does(tmp_path: Path, postgres_url: str) -> None:
    """The Alembic-free head and current revision (used by /readyz) agree with Alembic's."""
    assert schema_version.head_revision() == head_revision()
    url = f"sqlite:///{tmp_path / 'r.db'}"
    engine = create_engine(url)
    try:
        assert schema_version.current_revision(engine) is None  # never migrated
        upgrade(url)
        assert schema_version.current_revision(engine) == head_revision()
    finally:
        engine.dispose()
    pg = create_engine(postgres_url)
    try:
        assert schema_version.current_revision(pg) == head_revision()
    finally:
        pg.dispose()


def test_several_heads_are_an_error(tmp_path: Path) -> None:
    for name, revision, down in [("a", "1", None), ("b", "2", "1"), ("c", "3", "1")]:
        (tmp_path / f"{name}.py").write_text(f"revision = {revision!r}\ndown_revision = {down!r}\n")
    with pytest.raises(RuntimeError, match="several heads"):
        schema_version.head_revision(tmp_path)
