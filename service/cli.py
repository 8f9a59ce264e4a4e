"""The ``margin`` command: serve, migrate, manage sites and moderators."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from service import backup
from service.clock import system_clock
from service.db import Database
from service.errors import MarginError
from service.migrate import upgrade, upgrade_in_child
from service.moderators.service import (
    create_moderator,
    list_moderators,
    parse_expiry,
    revoke_moderator,
    rotate_token,
)
from service.observability import configure_logging
from service.privacy import cli as privacy_cli
from service.privacy.crypto import Vault
from service.privacy.keys import KeyError_, load_or_create_keyring
from service.review.models import Actor
from service.settings import Settings
from service.sites.admin import admin_view, list_sites, update_site
from service.sites.models import SiteUpdate
from service.sites.service import create_site, get_site
from service.spam import ModelError
from service.spam import cli as spam_cli

DEMO_TOKEN_FILE = Path("var/demo-moderator-token")
EXPIRES_HELP = "token expiry: 30d, 12h, 2w, or a date 2027-01-31 (00:00 UTC); default never"


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
        from service.demo import demo_origins, seed_demo

        db = Database(settings.database_url)
        origins = demo_origins(args.host or settings.host, args.port or settings.port)
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


def cmd_migrate(args: argparse.Namespace) -> int:
    settings = _settings()
    upgrade(settings.database_url)
    print("database is at the latest migration")
    if args.app_role:
        if settings.is_sqlite:
            print("margin: --app-role is for PostgreSQL", file=sys.stderr)
            return 2
        from service.dbroles import grant_app_role

        password = os.environ.get("MARGIN_APP_ROLE_PASSWORD") if args.create_role else None
        if args.create_role and not password:
            print("margin: --create-role needs MARGIN_APP_ROLE_PASSWORD", file=sys.stderr)
            return 2
        try:
            created = grant_app_role(settings.database_url, args.app_role, create_password=password)
        except ValueError as exc:
            print(f"margin: {exc}", file=sys.stderr)
            return 2
        made = "created and " if created else ""
        print(f"role {args.app_role} {made}granted serving rights (logs append-only)")
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


def _database() -> Database:
    settings = _settings()
    upgrade(settings.database_url)
    return Database(settings.database_url)


def _print_json(data: object) -> None:
    print(json.dumps(data, indent=2, default=str))


def cmd_site_list(args: argparse.Namespace) -> int:
    db = _database()
    with db.read() as session:
        sites = list_sites(session)
    db.dispose()
    if args.json:
        _print_json([s.model_dump(mode="json") for s in sites])
        return 0
    for s in sites:
        print(f"{s.site}\t{s.moderation_mode}\t{s.name}\t{' '.join(s.allowed_origins) or '-'}")
    if not sites:
        print("no sites yet: margin site create SLUG --origin https://…", file=sys.stderr)
    return 0


def cmd_site_show(args: argparse.Namespace) -> int:
    db = _database()
    with db.read() as session:
        site = get_site(session, args.slug)
        data = admin_view(site).model_dump(mode="json")
        data["moderators"] = [
            m.model_dump(mode="json", include={"id", "name", "state", "site_admin", "expires_at"})
            for m in list_moderators(session, system_clock(), site_id=site.id)
        ]
    db.dispose()
    _print_json(data)
    return 0


def cmd_site_update(args: argparse.Namespace) -> int:
    change = SiteUpdate(
        name=args.name,
        add_origins=args.add_origin,
        remove_origins=args.remove_origin,
        mode=args.mode,
        reason=args.reason,
    )
    db = _database()
    with db.write() as session:
        site = get_site(session, args.slug)
        updated = update_site(session, site, change, system_clock(), actor=Actor.OPERATOR)
    db.dispose()
    print(
        f"site {updated.site!r} updated: name {updated.name!r}, mode {updated.moderation_mode}, "
        f"allowed origins: {', '.join(updated.allowed_origins) or 'none'} "
        "(servers see the change within a few seconds)"
    )
    return 0


def _expiry(args: argparse.Namespace) -> datetime | None:
    return parse_expiry(args.expires_in, system_clock()) if args.expires_in else None


def cmd_moderator_create(args: argparse.Namespace) -> int:
    db = _database()
    with db.write() as session:
        moderator, token = create_moderator(
            session,
            name=args.name,
            site_slugs=args.site,
            pii=args.pii,
            site_admin=args.site_admin,
            expires_at=_expiry(args),
            now=system_clock(),
        )
    db.dispose()
    expires = f", expires {moderator.expires_at:%Y-%m-%d %H:%M} UTC" if moderator.expires_at else ""
    print(
        f"moderator {moderator.name!r} created (id {moderator.id}{expires}). "
        "Token, shown only once:",
        file=sys.stderr,
    )
    print(token)
    return 0


def cmd_moderator_list(args: argparse.Namespace) -> int:
    db = _database()
    with db.read() as session:
        site_id = get_site(session, args.site).id if args.site else None
        moderators = list_moderators(session, system_clock(), site_id=site_id)
    db.dispose()
    if args.json:
        _print_json([m.model_dump(mode="json") for m in moderators])
        return 0
    for m in moderators:
        scopes = ",".join(
            name for name, on in (("pii", m.can_reveal_pii), ("site-admin", m.site_admin)) if on
        )
        expires = f"{m.expires_at:%Y-%m-%d %H:%M}Z" if m.expires_at else "never"
        print(
            f"{m.id}\t{m.state}\t{m.name}\tsites={','.join(m.sites)}\t"
            f"scopes={scopes or '-'}\texpires={expires}"
        )
    return 0


def cmd_moderator_revoke(args: argparse.Namespace) -> int:
    db = _database()
    with db.write() as session:
        moderator = revoke_moderator(session, args.id, system_clock())
    db.dispose()
    print(
        f"moderator {moderator.id} ({moderator.name!r}) revoked: its token is refused from now on"
    )
    return 0


def cmd_moderator_rotate(args: argparse.Namespace) -> int:
    db = _database()
    with db.write() as session:
        moderator, token = rotate_token(session, args.id, system_clock(), expires_at=_expiry(args))
    db.dispose()
    expires = f"{moderator.expires_at:%Y-%m-%d %H:%M} UTC" if moderator.expires_at else "never"
    print(
        f"moderator {moderator.id} ({moderator.name!r}): new token (expires {expires}); "
        "the old one is refused from now on. Token, shown only once:",
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
    migrate.add_argument(
        "--app-role",
        metavar="ROLE",
        help="PostgreSQL: then grant ROLE what serving needs (logs append-only); run as owner",
    )
    migrate.add_argument(
        "--create-role",
        action="store_true",
        help="create the app role if missing (LOGIN, password from MARGIN_APP_ROLE_PASSWORD)",
    )
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
    site_list = site.add_parser("list", help="every site: slug, mode, name, origins")
    site_list.add_argument("--json", action="store_true")
    site_list.set_defaults(func=cmd_site_list)
    site_show = site.add_parser("show", help="one site and its moderators, as JSON")
    site_show.add_argument("slug")
    site_show.set_defaults(func=cmd_site_show)
    site_update = site.add_parser("update", help="rename, add or remove origins, change mode")
    site_update.add_argument("slug")
    site_update.add_argument("--name")
    site_update.add_argument(
        "--add-origin", action="append", default=[], help="origin to allow (repeatable)"
    )
    site_update.add_argument(
        "--remove-origin", action="append", default=[], help="origin to refuse (repeatable)"
    )
    site_update.add_argument("--mode", choices=["premoderate_all", "premoderate_first", "publish"])
    site_update.add_argument("--reason", default="", help="why (kept in the event log)")
    site_update.set_defaults(func=cmd_site_update)

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
    moderator_create.add_argument(
        "--site-admin", action="store_true", help="may manage its sites and their tokens"
    )
    moderator_create.add_argument("--expires-in", metavar="WHEN", help=EXPIRES_HELP)
    moderator_create.set_defaults(func=cmd_moderator_create)
    moderator_list = moderator.add_parser("list", help="moderators, scopes, expiry and state")
    moderator_list.add_argument("--site", help="only the moderators of this site")
    moderator_list.add_argument("--json", action="store_true")
    moderator_list.set_defaults(func=cmd_moderator_list)
    moderator_revoke = moderator.add_parser("revoke", help="refuse a moderator's token from now on")
    moderator_revoke.add_argument("id", type=int, help="moderator id (margin moderator list)")
    moderator_revoke.set_defaults(func=cmd_moderator_revoke)
    moderator_rotate = moderator.add_parser(
        "rotate", help="issue a new token (printed once); the old one stops working"
    )
    moderator_rotate.add_argument("id", type=int, help="moderator id (margin moderator list)")
    moderator_rotate.add_argument("--expires-in", metavar="WHEN", help=EXPIRES_HELP)
    moderator_rotate.set_defaults(func=cmd_moderator_rotate)
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
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"])
            print(f"margin: {where}: {error['msg']}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
