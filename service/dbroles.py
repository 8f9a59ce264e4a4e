"""PostgreSQL roles: the owner migrates, the app role serves (docs/operations.md, "PostgreSQL").

``margin migrate --app-role margin_app`` runs as the owner: it applies the migrations, then
(re)grants the app role what serving needs and no more: no UPDATE, DELETE or TRUNCATE on the
two append-only logs and no writes to ``alembic_version``. Granting after every migration means
a table added by a release is covered without a separate step. With ``--create-role`` the role
is created (LOGIN, password from ``MARGIN_APP_ROLE_PASSWORD``) when it does not exist, so a
fresh compose stack sets itself up; otherwise the DBA creates it once.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from service.privacy.audit import app_role_sql


def _libpq_url(database_url: str) -> str:
    return database_url.replace("postgresql+psycopg://", "postgresql://", 1)


def grant_app_role(database_url: str, role: str, *, create_password: str | None = None) -> bool:
    """Apply the app role's grants on the database at ``database_url`` (connected as the
    owner). Returns True when the role was created here."""
    created = False
    with psycopg.connect(_libpq_url(database_url), autocommit=True) as conn:
        database = conn.info.dbname
        statements = app_role_sql(role, database=database)  # validates the role name
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
        if exists is None:
            if create_password is None:
                raise ValueError(
                    f"role {role!r} does not exist: create it (CREATE ROLE {role} LOGIN "
                    "PASSWORD '…') or pass --create-role with MARGIN_APP_ROLE_PASSWORD set"
                )
            try:
                conn.execute(
                    sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                        sql.Identifier(role), sql.Literal(create_password)
                    )
                )
            except psycopg.errors.InsufficientPrivilege as exc:
                raise ValueError(
                    f"cannot create role {role!r}: the owner needs CREATEROLE (or let the DBA "
                    "create it once)"
                ) from exc
            created = True
        with conn.transaction():
            for statement in statements:
                conn.execute(statement.encode())
    return created
