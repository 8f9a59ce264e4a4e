"""Email encryption (AES-256-GCM bound to its row), keyed look-up hashes and IP minimisation."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from service.privacy.keys import KeyError_, Keyring, load_keyring

NONCE_BYTES = 12

log = logging.getLogger("margin.privacy")


class DecryptionError(RuntimeError):
    """A ciphertext did not authenticate: wrong key, wrong row, or tampered bytes."""


@dataclass(frozen=True)
class Sealed:
    key_id: str
    blob: bytes  # nonce || ciphertext+tag


def normalise_email(email: str) -> str:
    """Trim and lowercase. Lowercasing the local part too is a documented choice: look-ups match
    what readers type, at the cost of merging rare case-sensitive mailboxes."""
    return email.strip().lower()


def _aad(table: str, column: str, row_id: int, key_id: str) -> bytes:
    return f"margin:{table}.{column}:{row_id}:{key_id}".encode()


def _signature(path: Path | None) -> tuple[int, int, int] | None:
    if path is None:
        return None
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _lookup_digest(key: bytes, email: str) -> str:
    return hmac.new(key, normalise_email(email).encode(), hashlib.sha256).hexdigest()


class Vault:
    """All cryptography on personal data goes through here.

    Given the key file it came from, the vault follows it while the server runs (key rotation
    without downtime): before sealing or computing a look-up hash it checks whether the file
    changed (one ``stat``), and a ciphertext naming a key it does not know makes it re-read the
    file once before giving up. ``write_keyring`` replaces the file atomically, so a reader sees
    the old or the new keyring, never half of one.
    """

    def __init__(self, keyring: Keyring, *, key_file: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._key_file = key_file
        self._seen = _signature(key_file)
        self._install(keyring)

    def _install(self, keyring: Keyring) -> None:
        aead = {kid: AESGCM(key) for kid, key in keyring.encryption_keys.items()}
        self._current: tuple[Keyring, dict[str, AESGCM]] = (keyring, aead)

    @property
    def keyring(self) -> Keyring:
        return self._current[0]

    @property
    def key_file(self) -> Path | None:
        return self._key_file

    def refresh(self, *, force: bool = False) -> bool:
        """Re-read the key file if it changed since it was last read. True when keys changed."""
        if self._key_file is None:
            return False
        signature = _signature(self._key_file)
        if not force and signature == self._seen:
            return False
        with self._lock:
            if not force and signature == self._seen:
                return False
            try:
                keyring = load_keyring(self._key_file)
            except KeyError_ as exc:
                # Keep serving with the keys already loaded; the operator sees the warning.
                log.warning("key file changed but could not be loaded: %s", exc)
                return False
            self._seen = signature
            changed = keyring != self._current[0]
            self._install(keyring)
        if changed:
            log.info(
                "keyring reloaded: active encryption key %s, active look-up key %s",
                keyring.active_encryption_key,
                keyring.active_lookup_key,
            )
        return changed

    # Encryption --------------------------------------------------------------------------
    def seal(self, plaintext: str, *, table: str, column: str, row_id: int) -> Sealed:
        self.refresh()
        keyring, aead = self._current
        key_id = keyring.active_encryption_key
        nonce = os.urandom(NONCE_BYTES)
        ciphertext = aead[key_id].encrypt(
            nonce, plaintext.encode("utf-8"), _aad(table, column, row_id, key_id)
        )
        return Sealed(key_id, nonce + ciphertext)

    def open(self, sealed: Sealed, *, table: str, column: str, row_id: int) -> str:
        aead = self._current[1].get(sealed.key_id)
        if aead is None and self.refresh(force=True):
            aead = self._current[1].get(sealed.key_id)
        if aead is None:
            raise DecryptionError(f"no key with id {sealed.key_id!r} in the keyring")
        nonce, ciphertext = sealed.blob[:NONCE_BYTES], sealed.blob[NONCE_BYTES:]
        try:
            plain = aead.decrypt(nonce, ciphertext, _aad(table, column, row_id, sealed.key_id))
        except InvalidTag as exc:
            raise DecryptionError("ciphertext does not belong to this row or was altered") from exc
        return plain.decode("utf-8")

    # Keyed hashes ------------------------------------------------------------------------
    def email_lookup(self, email: str) -> tuple[str, str]:
        """(key id, HMAC-SHA256 hex) of the normalised email: finds a person's rows without
        decrypting. Never leaves the server."""
        self.refresh()
        keyring = self.keyring
        key_id = keyring.active_lookup_key
        return key_id, _lookup_digest(keyring.lookup_keys[key_id], email)

    def email_lookups(self, email: str) -> dict[str, str]:
        """The look-up hash of the email under every look-up key (key id -> digest): finding a
        person's rows while a look-up key rotation is under way must try them all."""
        self.refresh()
        return {kid: _lookup_digest(key, email) for kid, key in self.keyring.lookup_keys.items()}

    def derived(self, label: str, message: str, length: int = 32) -> str:
        """A keyed digest for one purpose (labels keep purposes from ever colliding)."""
        mac = hmac.new(self.keyring.signing_key, f"{label}\x00{message}".encode(), hashlib.sha256)
        return mac.hexdigest()[:length]

    def avatar_seed(self, site_id: int, email_lookup: str) -> str:
        """Per-site identicon seed: stable for one commenter on one site, unlinkable across
        sites and useless for guessing the email (unlike a Gravatar MD5)."""
        return self.derived("avatar", f"{site_id}:{email_lookup}", 16)

    def ip_hash(self, ip: str) -> str:
        return self.derived("ip", ip, 32)


_DOTTED_QUAD = re.compile(
    r"(?:0|[1-9][0-9]{0,2})\.(?:0|[1-9][0-9]{0,2})\.(?:0|[1-9][0-9]{0,2})\.(?:0|[1-9][0-9]{0,2})"
)


def ip_prefix(ip: str | None) -> str | None:
    """Keep only the network: /24 for IPv4, /48 for IPv6 (IPv4-mapped IPv6 treated as IPv4)."""
    if not ip:
        return None
    if _DOTTED_QUAD.fullmatch(ip):
        # The common case without ipaddress's objects (several percent of a new comment's
        # CPU time): the same text as parsed_prefix gives, for every input matching here.
        a, b, c, d = ip.split(".")
        if max(int(a), int(b), int(c), int(d)) <= 255:
            return f"{a}.{b}.{c}.0/24"
    return parsed_prefix(ip)


def parsed_prefix(ip: str) -> str | None:
    """``ip_prefix`` through ipaddress's parser, for any address."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
