"""The ``margin`` command: serve, migrate, manage sites and moderators."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from service import backup
from service.clock import system_clock
from service.db import Database
from service.errors import MarginError
from service.migrate import upgrade, upgrade_in_child
from service.moderators.service import create_moderator
from service.observability import configure_logging
from service.privacy import cli as privacy_cli
from service.privacy.crypto import Vault
from service.privacy.keys import KeyError_, load_or_create_keyring
from service.settings import Settings
from service.sites.service import create_site
from service.spam import ModelError
from service.spam import cli as spam_cli

DEMO_TOKEN_FILE = Path("var/demo-moderator-token")


def _settings() -> Settings:
    return Settings()


def _load_vault(settings: Settings) -> Vault:
    return Vault(load_or_create_keyring(settings.key_file, create=not settings.is_production))


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from service.workers import Supervisor, balances_connections

    settings = _settings()
    workers = args.workers or settings.workers
    if workers > 1 and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        # Each worker writes its metrics here; /metrics on any worker sums them all.
        metrics_dir = Path(tempfile.mkdtemp(prefix="margin-metrics-"))
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    configure_logging()
    _load_vault(settings)  # fail here, before any worker starts, if keys are missing
    if settings.spam_enabled:
        from service.app import spam_model

        spam_model(settings.spam_model)  # the same: a broken model file stops the start
    if not args.no_migrate:
        # In a child process: the serving process (the only worker, with --workers 1) then
        # never imports Alembic, Mako and Pygments (~10 MB each worker would carry).
        status = upgrade_in_child(settings.database_url)
        if status != 0:
            return status
    if settings.demo or args.demo:
        from service.demo import seed_demo

        db = Database(settings.database_url)
        origins = [
            f"http://127.0.0.1:{args.port or settings.port}",
            f"http://localhost:{args.port or settings.port}",
        ]
        with db.write() as session:
            seed_demo(session, _load_vault(settings), origins=origins, token_file=DEMO_TOKEN_FILE)
        db.dispose()
        print(f"Demo site 'demo' ready; moderator token in {DEMO_TOKEN_FILE}", file=sys.stderr)
    config: dict[str, Any] = {
        "app": "service.app:create_app_from_env",
        "factory": True,
        "host": args.host or settings.host,
        "port": args.port or settings.port,
        "log_config": None,
        # A worker importing the app and loading the spam model on a busy machine needs more
        # than uvicorn's default 5 s before it is declared dead and restarted.
        "timeout_worker_healthcheck": 60,
        "access_log": False,
        "timeout_keep_alive": settings.keep_alive_seconds,
        # The app reads X-Forwarded-For itself (service.middleware.ForwardedClient, with
        # MARGIN_FORWARDED_ALLOW_IPS): the server's own handling would replace the proxy's
        # address with whatever text the header holds before the app could check it.
        "proxy_headers": False,
        "server_header": False,
        "log_level": "info",
    }
    if workers > 1 and balances_connections():
        # A listening socket per worker: connections spread over the workers (service.workers).
        return Supervisor(config, workers).run()
    uvicorn.run(**config, workers=workers)
    return 0


def cmd_migrate(_: argparse.Namespace) -> int:
    settings = _settings()
    upgrade(settings.database_url)
    print("database is at the latest migration")
    return 0


def cmd_site_create(args: argparse.Namespace) -> int:
    settings = _settings()
    upgrade(settings.database_url)
    db = Database(settings.database_url)
    policy = json.loads(args.policy) if args.policy else {}
    if args.mode:
        policy["mode"] = args.mode
    with db.write() as session:
        site = create_site(
            session,
            slug=args.slug,
            name=args.name,
            origins=args.origin,
            now=system_clock(),
            policy=policy,
        )
        print(
            f"site {site.slug!r} created; "
            f"allowed origins: {', '.join(site.allowed_origins) or 'none'}"
        )
    db.dispose()
    return 0


def cmd_moderator_create(args: argparse.Namespace) -> int:
    settings = _settings()
    upgrade(settings.database_url)
    db = Database(settings.database_url)
    with db.write() as session:
        moderator, token = create_moderator(
            session, name=args.name, site_slugs=args.site, pii=args.pii, now=system_clock()
        )
    db.dispose()
    print(
        f"moderator {moderator.name!r} created (id {moderator.id}). Token, shown only once:",
        file=sys.stderr,
    )
    print(token)
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    target = backup.backup(_settings().database_url, Path(args.file))
    print(f"backup written to {target} (emails inside stay encrypted; back up the key file apart)")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    if not args.yes:
        print(
            "margin: restore replaces the whole database; stop the server and add --yes",
            file=sys.stderr,
        )
        return 2
    backup.restore(_settings().database_url, Path(args.file))
    print(f"database restored from {args.file}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="margin", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="apply migrations, then serve HTTP")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument(
        "--workers", type=int, help="uvicorn worker processes (default MARGIN_WORKERS or 1)"
    )
    serve.add_argument(
        "--no-migrate",
        action="store_true",
        help="skip migrations (run `margin migrate` once instead)",
    )
    serve.add_argument("--demo", action="store_true", help="create the demo site if missing")
    serve.set_defaults(func=cmd_serve)

    migrate = commands.add_parser("migrate", help="apply pending database migrations")
    migrate.set_defaults(func=cmd_migrate)

    site = commands.add_parser("site", help="manage sites").add_subparsers(
        dest="site_command", required=True
    )
    site_create = site.add_parser("create", help="register a site")
    site_create.add_argument("slug")
    site_create.add_argument("--name")
    site_create.add_argument(
        "--origin", action="append", default=[], help="allowed origin (repeatable)"
    )
    site_create.add_argument("--mode", choices=["premoderate_all", "premoderate_first", "publish"])
    site_create.add_argument("--policy", help="moderation policy as JSON")
    site_create.set_defaults(func=cmd_site_create)

    moderator = commands.add_parser("moderator", help="manage moderators").add_subparsers(
        dest="moderator_command", required=True
    )
    moderator_create = moderator.add_parser(
        "create", help="create a moderator and print its token once"
    )
    moderator_create.add_argument(
        "--site", action="append", required=True, help="site slug (repeatable)"
    )
    moderator_create.add_argument("--name", required=True)
    moderator_create.add_argument("--pii", action="store_true", help="may reveal emails (recorded)")
    moderator_create.set_defaults(func=cmd_moderator_create)
    backup_cmd = commands.add_parser("backup", help="write a consistent backup of the database")
    backup_cmd.add_argument("file", help="new file to write (SQLite copy or pg_dump archive)")
    backup_cmd.set_defaults(func=cmd_backup)
    restore_cmd = commands.add_parser("restore", help="replace the database with a backup")
    restore_cmd.add_argument("file")
    restore_cmd.add_argument("--yes", action="store_true", help="yes, replace everything")
    restore_cmd.set_defaults(func=cmd_restore)

    privacy_cli.add_subcommands(commands)
    spam_cli.add_subcommands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except MarginError as exc:
        print(f"margin: {exc.message}", file=sys.stderr)
        return 2
    except (KeyError_, ModelError, backup.BackupError) as exc:
        print(f"margin: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
