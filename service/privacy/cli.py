"""Privacy subcommands of ``margin``: subject requests, retention, keys, audit.

margin subject export --email E [--site S] [--purpose P] [--category C] [--out FILE]
margin subject erase  --email E [--site S] --yes
margin subject policy SITE anonymise|delete
margin purge [--no-compact]
margin keys init | status | rotate [--lookup] | rewrap [--lookup] | retire KEY_ID [--lookup]
margin audit verify [--site S]
margin audit app-role ROLE           (prints the PostgreSQL grants for the app's role)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from sqlmodel import select

from service.clock import system_clock
from service.db import Database
from service.migrate import upgrade
from service.privacy import rotation, subjects
from service.privacy.audit import app_role_sql, verify_logs
from service.privacy.crypto import Vault
from service.privacy.keys import init_keyring, load_or_create_keyring
from service.privacy.retention import RetentionPolicy, compact, purge
from service.review.inputs import RevealCategory
from service.settings import Settings
from service.sites.models import Site


def _settings() -> Settings:
    return Settings()


def _vault(settings: Settings) -> Vault:
    keyring = load_or_create_keyring(settings.key_file, create=not settings.is_production)
    return Vault(keyring, key_file=settings.key_file)


def _db(settings: Settings) -> Database:
    upgrade(settings.database_url)
    return Database(settings.database_url)


def _site_ids(db: Database, slug: str | None) -> list[int] | None:
    if slug is None:
        return None
    with db.read() as session:
        site = session.exec(select(Site).where(Site.slug == slug)).first()
    if site is None or site.id is None:
        raise SystemExit(f"margin: no site {slug!r}")
    return [site.id]


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")


def cmd_subject_export(args: argparse.Namespace) -> int:
    settings = _settings()
    db, vault = _db(settings), _vault(settings)
    try:
        site_ids = _site_ids(db, args.site)
        with db.write() as session:
            comments = subjects.find_by_email(session, vault, args.email, site_ids=site_ids)
            export = subjects.export_subject(
                session,
                vault,
                comments,
                requester=subjects.Requester(kind="admin"),
                category=args.category,
                purpose=args.purpose,
                now=system_clock(),
            )
            session.commit()
    finally:
        db.dispose()
    payload = export.model_dump_json(indent=2)
    if args.out:
        Path(args.out).write_text(payload + "\n", encoding="utf-8")
        _err(f"{len(export.comments)} comments exported to {args.out}")
    else:
        _out(payload)
    return 0


def cmd_subject_erase(args: argparse.Namespace) -> int:
    if not args.yes:
        _err("margin: erasure cannot be undone; add --yes to confirm")
        return 2
    settings = _settings()
    db, vault = _db(settings), _vault(settings)
    try:
        site_ids = _site_ids(db, args.site)
        with db.write() as session:
            comments = subjects.find_by_email(session, vault, args.email, site_ids=site_ids)
            report = subjects.erase_subject(
                session, comments, requester=subjects.Requester(kind="admin"), now=system_clock()
            )
            session.commit()
        if not args.no_compact:
            compact(db)
    finally:
        db.dispose()
    _out(report.model_dump_json())
    return 0


def cmd_subject_policy(args: argparse.Namespace) -> int:
    settings = _settings()
    db = _db(settings)
    try:
        with db.write() as session:
            site = subjects.set_erasure_policy(session, args.site, args.policy)
    finally:
        db.dispose()
    _out(f"site {site.slug!r}: erased authors' comments are {args.policy}d")
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    settings = _settings()
    db = _db(settings)
    try:
        report = purge(db, RetentionPolicy.from_settings(settings), system_clock())
        if not args.no_compact and not report.skipped:
            compact(db)
    finally:
        db.dispose()
    _out(report.summary())
    return 0


def _kind(args: argparse.Namespace) -> rotation.KeyKind:
    return rotation.KeyKind.LOOKUP if args.lookup else rotation.KeyKind.ENCRYPTION


def cmd_keys_init(_: argparse.Namespace) -> int:
    settings = _settings()
    init_keyring(settings.key_file)
    _err(
        f"new keyring written to {settings.key_file} (mode 0600). Back it up apart from the "
        "database: without it the stored emails cannot be read."
    )
    return 0


def cmd_keys_status(_: argparse.Namespace) -> int:
    settings = _settings()
    db, vault = _db(settings), _vault(settings)
    try:
        with db.read() as session:
            usage = rotation.key_usage(session)
    finally:
        db.dispose()
    keyring = vault.keyring
    status: dict[str, Any] = {
        "encryption": {
            "active": keyring.active_encryption_key,
            "keys": {k: usage["encryption"].get(k, 0) for k in keyring.encryption_keys},
        },
        "lookup": {
            "active": keyring.active_lookup_key,
            "keys": {k: usage["lookup"].get(k, 0) for k in keyring.lookup_keys},
        },
    }
    unknown = {
        kind: sorted(set(usage[kind]) - set(status[kind]["keys"]))
        for kind in ("encryption", "lookup")
    }
    if any(unknown.values()):
        status["rows_with_unknown_keys"] = unknown
    _out(json.dumps(status, indent=2))
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    settings = _settings()
    db = _db(settings)
    _vault(settings)  # the key file must exist and be valid
    try:
        report = rotation.rotate(
            db,
            settings.key_file,
            _kind(args),
            batch_size=args.batch_size,
            pause=args.pause,
            settle=args.settle,
            progress=_err,
        )
    finally:
        db.dispose()
    _out(
        json.dumps(
            {
                "new_key": report.new_key,
                "rows": report.rows_done,
                "failed": report.rows_failed,
                "remaining": report.remaining,
            }
        )
    )
    return 0 if report.remaining == 0 else 1


def cmd_keys_rewrap(args: argparse.Namespace) -> int:
    settings = _settings()
    db, vault = _db(settings), _vault(settings)
    try:
        report = rotation.migrate_rows(
            db, vault, _kind(args), batch_size=args.batch_size, pause=args.pause, progress=_err
        )
    finally:
        db.dispose()
    return 0 if report.remaining == 0 else 1


def cmd_keys_retire(args: argparse.Namespace) -> int:
    settings = _settings()
    db = _db(settings)
    try:
        rotation.retire_key(db, settings.key_file, _kind(args), args.key_id)
    except rotation.RotationError as exc:
        _err(f"margin: {exc}")
        return 1
    finally:
        db.dispose()
    _out(f"key {args.key_id} removed from {settings.key_file}")
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    settings = _settings()
    db = _db(settings)
    try:
        with db.read() as session:
            report = verify_logs(session, site_slug=args.site)
    finally:
        db.dispose()
    for problem in report.problems:
        _out(problem)
    _out(
        f"{report.events_checked} moderation events and {report.access_checked} access-register "
        f"entries checked: {'intact' if report.ok else f'{len(report.problems)} problems'}"
    )
    return 0 if report.ok else 1


def cmd_audit_app_role(args: argparse.Namespace) -> int:
    for statement in app_role_sql(args.role, database=args.database):
        _out(statement + ";")
    return 0


def add_subcommands(commands: Any) -> None:
    """Register the privacy commands on ``margin``'s subparsers object."""
    subject = commands.add_parser("subject", help="data-subject requests (export, erase)")
    subject_cmds = subject.add_subparsers(dest="subject_command", required=True)
    export = subject_cmds.add_parser("export", help="print everything held about an email (JSON)")
    export.add_argument("--email", required=True)
    export.add_argument("--site", help="only this site (default: every site)")
    export.add_argument("--purpose", default="data subject access request")
    export.add_argument(
        "--category",
        default=RevealCategory.SUBJECT_REQUEST.value,
        choices=[c.value for c in RevealCategory],
    )
    export.add_argument("--out", help="write to this file instead of standard output")
    export.set_defaults(func=cmd_subject_export)
    erase = subject_cmds.add_parser("erase", help="erase the personal data of an email's author")
    erase.add_argument("--email", required=True)
    erase.add_argument("--site", help="only this site (default: every site)")
    erase.add_argument("--yes", action="store_true", help="confirm: erasure cannot be undone")
    erase.add_argument(
        "--no-compact", action="store_true", help="skip the SQLite checkpoint+VACUUM afterwards"
    )
    erase.set_defaults(func=cmd_subject_erase)
    policy = subject_cmds.add_parser("policy", help="set a site's erasure policy")
    policy.add_argument("site")
    policy.add_argument("policy", choices=list(subjects.ERASURE_POLICIES))
    policy.set_defaults(func=cmd_subject_policy)

    purge_cmd = commands.add_parser("purge", help="run the retention job once")
    purge_cmd.add_argument(
        "--no-compact", action="store_true", help="skip the checkpoint+VACUUM afterwards"
    )
    purge_cmd.set_defaults(func=cmd_purge)

    keys = commands.add_parser("keys", help="encryption and look-up key rotation")
    keys_cmds = keys.add_subparsers(dest="keys_command", required=True)
    init = keys_cmds.add_parser(
        "init", help="create the keyring at MARGIN_KEY_FILE (never overwrites one)"
    )
    init.set_defaults(func=cmd_keys_init)
    status = keys_cmds.add_parser("status", help="rows per key id")
    status.set_defaults(func=cmd_keys_status)
    for name, func, text in (
        ("rotate", cmd_keys_rotate, "add a new key, activate it, re-encrypt every row"),
        ("rewrap", cmd_keys_rewrap, "resume moving rows to the active key"),
    ):
        cmd = keys_cmds.add_parser(name, help=text)
        cmd.add_argument("--lookup", action="store_true", help="the HMAC look-up key instead")
        cmd.add_argument("--batch-size", type=int, default=200)
        cmd.add_argument("--pause", type=float, default=0.05, help="seconds between batches")
        if name == "rotate":
            cmd.add_argument(
                "--settle",
                type=float,
                default=2.0,
                help="seconds between adding the key and activating it",
            )
        cmd.set_defaults(func=func)
    retire = keys_cmds.add_parser("retire", help="remove a key no row uses any more")
    retire.add_argument("key_id")
    retire.add_argument("--lookup", action="store_true")
    retire.set_defaults(func=cmd_keys_retire)

    audit = commands.add_parser("audit", help="the append-only logs")
    audit_cmds = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_cmds.add_parser("verify", help="check the hash chains of both logs")
    verify.add_argument("--site")
    verify.set_defaults(func=cmd_audit_verify)
    role = audit_cmds.add_parser("app-role", help="print PostgreSQL grants for the app's role")
    role.add_argument("role")
    role.add_argument("--database")
    role.set_defaults(func=cmd_audit_app_role)
