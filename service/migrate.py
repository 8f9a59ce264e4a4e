"""Running Alembic from code: ``margin migrate`` and ``margin serve`` use this, and so do tests.

Alembic is imported inside the functions: with Mako and Pygments it is about 10 MB of a
process's memory, and a serving worker never needs it (``margin serve`` migrates in a
short-lived child process).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text

from service.db import single_use_engine
from service.schema_version import MIGRATIONS

if TYPE_CHECKING:
    from alembic.config import Config


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def upgrade(url: str) -> None:
    """Bring the database to head. On PostgreSQL an advisory lock keeps several starting
    instances from migrating at once."""
    from alembic import command

    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = single_use_engine(url)
    try:
        config = alembic_config(url)
        if engine.dialect.name == "postgresql":
            with engine.connect() as connection:
                connection.execute(text("SELECT pg_advisory_lock(7311001)"))
                try:
                    config.attributes["connection"] = connection
                    command.upgrade(config, "head")
                    connection.commit()
                finally:
                    connection.execute(text("SELECT pg_advisory_unlock(7311001)"))
                    connection.commit()
        else:
            command.upgrade(config, "head")
    finally:
        engine.dispose()


def upgrade_in_child(url: str) -> int:
    """:func:`upgrade` in a short-lived Python process; its exit code. The URL goes through
    stdin (it may hold a password, which the process list would show)."""
    code = "import sys; from service.migrate import upgrade; upgrade(sys.stdin.read())"
    child = [sys.executable, "-c", code]  # fixed arguments, nothing from the outside
    return subprocess.run(child, input=url, text=True, check=False).returncode  # noqa: S603
