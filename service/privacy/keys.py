"""The keyring: AES-GCM keys for emails, HMAC keys for look-ups, and a signing key.

The key file is JSON::

    {"version": 1,
     "active_encryption_key": "e1", "encryption_keys": {"e1": "<base64 32 bytes>"},
     "active_lookup_key": "l1", "lookup_keys": {"l1": "<base64 32 bytes>"},
     "signing_key": "<base64 32 bytes>"}

Every key has an id so keys can rotate: rows record which key encrypted them.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

KEY_BYTES = 32


class KeyError_(RuntimeError):
    """The key file is missing, unreadable or malformed."""


def _decode_key(name: str, value: object) -> bytes:
    if not isinstance(value, str):
        raise KeyError_(f"{name} must be a base64 string")
    try:
        raw = base64.b64decode(value, validate=True)
    except ValueError as exc:
        raise KeyError_(f"{name} is not valid base64") from exc
    if len(raw) != KEY_BYTES:
        raise KeyError_(f"{name} must decode to {KEY_BYTES} bytes, got {len(raw)}")
    return raw


def _key_map(data: dict[str, Any], field: str) -> dict[str, bytes]:
    raw = data.get(field)
    if not isinstance(raw, dict) or not raw:
        raise KeyError_(f"{field} must be a non-empty object of key id -> key")
    keys: dict[str, bytes] = {}
    for key_id, value in raw.items():
        if not (isinstance(key_id, str) and 0 < len(key_id) <= 16 and key_id.isalnum()):
            raise KeyError_(f"{field}: key id {key_id!r} must be 1-16 letters or digits")
        keys[key_id] = _decode_key(f"{field}.{key_id}", value)
    return keys


@dataclass(frozen=True)
class Keyring:
    active_encryption_key: str
    encryption_keys: dict[str, bytes]
    active_lookup_key: str
    lookup_keys: dict[str, bytes]
    signing_key: bytes

    @classmethod
    def from_dict(cls, data: object) -> Keyring:
        if not isinstance(data, dict):
            raise KeyError_("key file must hold a JSON object")
        if data.get("version") != 1:
            raise KeyError_("key file version must be 1")
        enc = _key_map(data, "encryption_keys")
        look = _key_map(data, "lookup_keys")
        active_enc = data.get("active_encryption_key")
        active_look = data.get("active_lookup_key")
        if active_enc not in enc:
            raise KeyError_("active_encryption_key must name one of encryption_keys")
        if active_look not in look:
            raise KeyError_("active_lookup_key must name one of lookup_keys")
        signing = _decode_key("signing_key", data.get("signing_key"))
        return cls(str(active_enc), enc, str(active_look), look, signing)

    def to_dict(self) -> dict[str, Any]:
        def enc(keys: dict[str, bytes]) -> dict[str, str]:
            return {k: base64.b64encode(v).decode() for k, v in keys.items()}

        return {
            "version": 1,
            "active_encryption_key": self.active_encryption_key,
            "encryption_keys": enc(self.encryption_keys),
            "active_lookup_key": self.active_lookup_key,
            "lookup_keys": enc(self.lookup_keys),
            "signing_key": base64.b64encode(self.signing_key).decode(),
        }

    @classmethod
    def generate(cls) -> Keyring:
        return cls(
            active_encryption_key="e1",
            encryption_keys={"e1": secrets.token_bytes(KEY_BYTES)},
            active_lookup_key="l1",
            lookup_keys={"l1": secrets.token_bytes(KEY_BYTES)},
            signing_key=secrets.token_bytes(KEY_BYTES),
        )


def load_keyring(path: Path) -> Keyring:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise KeyError_(
            f"key file {path} does not exist (create it once with `margin keys init`, or check "
            "MARGIN_KEY_FILE: a new keyring cannot read emails encrypted under the old one)"
        ) from exc
    except OSError as exc:
        raise KeyError_(f"key file {path} cannot be read: {exc.strerror}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise KeyError_(f"key file {path} is not valid JSON (line {exc.lineno})") from exc
    return Keyring.from_dict(data)


def write_keyring(path: Path, keyring: Keyring) -> None:
    """Write atomically with mode 0600 from the first byte (no window where others can read it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(keyring.to_dict(), handle, indent=2)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def init_keyring(path: Path) -> Keyring:
    """Create a new keyring at ``path`` for production (``margin keys init``). Never replaces
    a file: an existing keyring is what decrypts the stored emails, so overwriting it would
    lose them. The file is created exclusively with mode 0600, the directory with 0700."""
    if path.exists():
        raise KeyError_(f"key file {path} already exists; refusing to overwrite it")
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)
    keyring = Keyring.generate()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:  # created by someone else in the meantime
        raise KeyError_(f"key file {path} already exists; refusing to overwrite it") from exc
    except OSError as exc:
        raise KeyError_(f"key file {path} cannot be created: {exc.strerror}") from exc
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(keyring.to_dict(), handle, indent=2)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    return keyring


def load_or_create_keyring(path: Path, *, create: bool) -> Keyring:
    if not path.exists() and create:
        write_keyring(path, Keyring.generate())
    return load_keyring(path)
