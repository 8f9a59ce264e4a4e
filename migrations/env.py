"""Alembic environment: metadata from the service's models; batch mode so SQLite can alter tables."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy.engine import Connection

import service.models  # noqa: F401  (registers every table on the metadata)
from service.db import UTCDateTime, metadata, single_use_engine

config = context.config


def render_item(type_: str, obj: Any, _autogen_context: Any) -> str | bool:
    # Migrations spell the portable type, not the service's decorator.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    existing = config.attributes.get("connection")
    if existing is not None:
        run(existing)
        return
    engine = single_use_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.connect() as connection:
            run(connection)
    finally:
        engine.dispose()


main()
