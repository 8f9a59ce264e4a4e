"""Key rotation without downtime: add a key, make it active, re-encrypt (or re-hash) the rows in
small batches while the service keeps serving, and retire the old key only when no row uses it.

How running servers follow (see docs/privacy.md): each ``Vault`` re-reads the key file when it
changes (checked before every seal and look-up hash) and when a row names a key it does not
know. ``rotate`` first writes the new key as *inactive* (every reader can then decrypt it), then
activates it in a second atomic write; rows written with the old key in between are simply
picked up by the next batch, and the job loops until none is left.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from service.comments.models import Comment, IdempotencyRecord
from service.comments.status import bump_version
from service.db import Database
from service.privacy.crypto import DecryptionError, Sealed, Vault
from service.privacy.keys import KEY_BYTES, Keyring, load_keyring, write_keyring

Progress = Callable[[str], None]


class KeyKind(StrEnum):
    ENCRYPTION = "encryption"  # AES-GCM keys sealing emails and idempotency edit tokens
    LOOKUP = "lookup"  # HMAC keys for email look-ups


class RotationError(RuntimeError):
    """A rotation step was refused (e.g. retiring a key that rows still use)."""


@dataclass
class RotationReport:
    kind: KeyKind
    new_key: str | None
    rows_done: int = 0
    rows_failed: int = 0
    remaining: int = 0


def _next_id(prefix: str, existing: dict[str, bytes]) -> str:
    n = len(existing) + 1
    while f"{prefix}{n}" in existing:
        n += 1
    return f"{prefix}{n}"


def add_key(path: Path, kind: KeyKind, *, activate: bool) -> str:
    """Add a fresh random key to the key file (atomically); returns its id."""
    keyring = load_keyring(path)
    if kind is KeyKind.ENCRYPTION:
        kid = _next_id("e", keyring.encryption_keys)
        keys = {**keyring.encryption_keys, kid: secrets.token_bytes(KEY_BYTES)}
        keyring = replace(
            keyring,
            encryption_keys=keys,
            active_encryption_key=kid if activate else keyring.active_encryption_key,
        )
    else:
        kid = _next_id("l", keyring.lookup_keys)
        keys = {**keyring.lookup_keys, kid: secrets.token_bytes(KEY_BYTES)}
        keyring = replace(
            keyring,
            lookup_keys=keys,
            active_lookup_key=kid if activate else keyring.active_lookup_key,
        )
    write_keyring(path, keyring)
    return kid


def activate_key(path: Path, kind: KeyKind, kid: str) -> None:
    keyring = load_keyring(path)
    if kind is KeyKind.ENCRYPTION:
        if kid not in keyring.encryption_keys:
            raise RotationError(f"no encryption key {kid!r} in the key file")
        keyring = replace(keyring, active_encryption_key=kid)
    else:
        if kid not in keyring.lookup_keys:
            raise RotationError(f"no look-up key {kid!r} in the key file")
        keyring = replace(keyring, active_lookup_key=kid)
    write_keyring(path, keyring)


def key_usage(session: Session) -> dict[str, dict[str, int]]:
    """Rows per key id: what an operator checks before retiring a key."""
    enc: dict[str, int] = {}
    for kid, n in session.exec(
        select(Comment.email_key_id, func.count())
        .where(col(Comment.email_key_id).is_not(None))
        .group_by(col(Comment.email_key_id))
    ).all():
        enc[str(kid)] = enc.get(str(kid), 0) + int(n)
    for kid, n in session.exec(
        select(IdempotencyRecord.token_key_id, func.count())
        .where(col(IdempotencyRecord.token_key_id).is_not(None))
        .group_by(col(IdempotencyRecord.token_key_id))
    ).all():
        enc[str(kid)] = enc.get(str(kid), 0) + int(n)
    look: dict[str, int] = {
        str(kid): int(n)
        for kid, n in session.exec(
            select(Comment.email_lookup_key_id, func.count())
            .where(col(Comment.email_lookup_key_id).is_not(None))
            .group_by(col(Comment.email_lookup_key_id))
        ).all()
    }
    return {KeyKind.ENCRYPTION.value: enc, KeyKind.LOOKUP.value: look}


def _remaining(session: Session, kind: KeyKind, active: str) -> int:
    usage = key_usage(session)[kind.value]
    return sum(n for kid, n in usage.items() if kid != active)


def _rewrap_comments(db: Database, vault: Vault, after: int, batch: int) -> tuple[int, int, int]:
    """One batch of comment emails; returns (last id, done, failed)."""
    done = failed = 0
    with db.write() as session:
        active = vault.keyring.active_encryption_key
        rows = session.exec(
            select(Comment.id, Comment.email_key_id, Comment.email_ciphertext)
            .where(
                col(Comment.id) > after,
                col(Comment.email_ciphertext).is_not(None),
                col(Comment.email_key_id) != active,
            )
            .order_by(col(Comment.id))
            .limit(batch)
        ).all()
        for row_id, kid, blob in rows:
            assert row_id is not None and kid is not None and blob is not None
            after = row_id
            try:
                plain = vault.open(
                    Sealed(kid, blob), table="comments", column="email", row_id=row_id
                )
            except DecryptionError:
                failed += 1
                continue
            sealed = vault.seal(plain, table="comments", column="email", row_id=row_id)
            # Only if nobody changed the row meanwhile (an erasure empties it).
            result = session.execute(
                update(Comment)
                .where(col(Comment.id) == row_id, col(Comment.email_key_id) == kid)
                .values(email_ciphertext=sealed.blob, email_key_id=sealed.key_id)
            )
            done += int(getattr(result, "rowcount", 0) or 0)
        session.commit()
    return (after if rows else -1), done, failed


def _rewrap_tokens(db: Database, vault: Vault, after: int, batch: int) -> tuple[int, int, int]:
    done = failed = 0
    with db.write() as session:
        active = vault.keyring.active_encryption_key
        rows = session.exec(
            select(
                IdempotencyRecord.id,
                IdempotencyRecord.token_key_id,
                IdempotencyRecord.token_ciphertext,
            )
            .where(
                col(IdempotencyRecord.id) > after,
                col(IdempotencyRecord.token_ciphertext).is_not(None),
                col(IdempotencyRecord.token_key_id) != active,
            )
            .order_by(col(IdempotencyRecord.id))
            .limit(batch)
        ).all()
        for row_id, kid, blob in rows:
            assert row_id is not None and kid is not None and blob is not None
            after = row_id
            where = {"table": "idempotency_keys", "column": "edit_token", "row_id": row_id}
            try:
                plain = vault.open(Sealed(kid, blob), **where)  # type: ignore[arg-type]
            except DecryptionError:
                failed += 1
                continue
            sealed = vault.seal(plain, **where)  # type: ignore[arg-type]
            result = session.execute(
                update(IdempotencyRecord)
                .where(
                    col(IdempotencyRecord.id) == row_id, col(IdempotencyRecord.token_key_id) == kid
                )
                .values(token_ciphertext=sealed.blob, token_key_id=sealed.key_id)
            )
            done += int(getattr(result, "rowcount", 0) or 0)
        session.commit()
    return (after if rows else -1), done, failed


def _rehash_comments(db: Database, vault: Vault, after: int, batch: int) -> tuple[int, int, int]:
    """One batch of look-up hashes (and the per-site avatar derived from them)."""
    done = failed = 0
    with db.write() as session:
        active = vault.keyring.active_lookup_key
        rows = session.exec(
            select(Comment)
            .where(
                col(Comment.id) > after,
                col(Comment.email_lookup).is_not(None),
                col(Comment.email_lookup_key_id) != active,
            )
            .order_by(col(Comment.id))
            .limit(batch)
        ).all()
        threads: set[int] = set()
        for row in rows:
            assert row.id is not None
            after = row.id
            if row.email_ciphertext is None or row.email_key_id is None:
                failed += 1
                continue
            try:
                email = vault.open(
                    Sealed(row.email_key_id, row.email_ciphertext),
                    table="comments",
                    column="email",
                    row_id=row.id,
                )
            except DecryptionError:
                failed += 1
                continue
            kid, digest = vault.email_lookup(email)
            result = session.execute(
                update(Comment)
                .where(
                    col(Comment.id) == row.id,
                    col(Comment.email_lookup_key_id) == row.email_lookup_key_id,
                )
                .values(
                    email_lookup=digest,
                    email_lookup_key_id=kid,
                    avatar=vault.avatar_seed(row.site_id, digest),
                )
            )
            done += int(getattr(result, "rowcount", 0) or 0)
            threads.add(row.thread_id)
        for thread_id in sorted(threads):
            bump_version(session, thread_id)  # avatars changed: the public cache must refresh
        session.commit()
    return (after if rows else -1), done, failed


def migrate_rows(
    db: Database,
    vault: Vault,
    kind: KeyKind,
    *,
    batch_size: int = 200,
    pause: float = 0.0,
    progress: Progress | None = None,
    max_passes: int = 5,
) -> RotationReport:
    """Bring every row to the active key, batch by batch (short write transactions, so the
    service keeps writing in between). Passes repeat while rows written with an older key by a
    server that had not yet seen the new key keep appearing."""
    vault.refresh(force=True)
    active = (
        vault.keyring.active_encryption_key
        if kind is KeyKind.ENCRYPTION
        else vault.keyring.active_lookup_key
    )
    report = RotationReport(kind=kind, new_key=active)
    steps = [_rewrap_comments, _rewrap_tokens] if kind is KeyKind.ENCRYPTION else [_rehash_comments]
    for _ in range(max_passes):
        for step in steps:
            after = 0
            while True:
                after, done, failed = step(db, vault, after, batch_size)
                if after < 0:
                    break
                report.rows_done += done
                report.rows_failed += failed
                if progress is not None:
                    progress(f"{kind.value}: {report.rows_done} rows moved to key {active}")
                if pause:
                    time.sleep(pause)
        with db.read() as session:
            report.remaining = _remaining(session, kind, active)
        if report.remaining <= report.rows_failed:
            break
    if progress is not None:
        progress(
            f"{kind.value}: done, {report.rows_done} rows moved to key {active}, "
            f"{report.remaining} rows still on older keys"
        )
    return report


def rotate(
    db: Database,
    key_file: Path,
    kind: KeyKind,
    *,
    batch_size: int = 200,
    pause: float = 0.0,
    settle: float = 0.0,
    progress: Progress | None = None,
) -> RotationReport:
    """Add a new key as inactive, activate it, then move every row to it."""
    kid = add_key(key_file, kind, activate=False)
    if progress is not None:
        progress(f"{kind.value}: added key {kid} (inactive: every server can now read it)")
    if settle:
        time.sleep(settle)
    activate_key(key_file, kind, kid)
    if progress is not None:
        progress(f"{kind.value}: key {kid} is now active for new writes")
    vault = Vault(load_keyring(key_file), key_file=key_file)
    report = migrate_rows(db, vault, kind, batch_size=batch_size, pause=pause, progress=progress)
    report.new_key = kid
    return report


def retire_key(db: Database, key_file: Path, kind: KeyKind, kid: str) -> Keyring:
    """Remove a key from the key file, only when it is not active and no row uses it."""
    keyring = load_keyring(key_file)
    keys = keyring.encryption_keys if kind is KeyKind.ENCRYPTION else keyring.lookup_keys
    active = (
        keyring.active_encryption_key if kind is KeyKind.ENCRYPTION else keyring.active_lookup_key
    )
    if kid not in keys:
        raise RotationError(f"no {kind.value} key {kid!r} in the key file")
    if kid == active:
        raise RotationError(f"key {kid!r} is the active {kind.value} key; rotate first")
    with db.read() as session:
        used = key_usage(session)[kind.value].get(kid, 0)
    if used:
        raise RotationError(
            f"{used} rows still use {kind.value} key {kid!r}; run `margin keys rewrap` first"
        )
    remaining = {k: v for k, v in keys.items() if k != kid}
    keyring = (
        replace(keyring, encryption_keys=remaining)
        if kind is KeyKind.ENCRYPTION
        else replace(keyring, lookup_keys=remaining)
    )
    write_keyring(key_file, keyring)
    return keyring
