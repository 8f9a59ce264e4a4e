"""Email encryption (AES-256-GCM bound to its row), keyed look-up hashes and IP minimisation."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from service.privacy.keys import Keyring

NONCE_BYTES = 12


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


class Vault:
    """All cryptography on personal data goes through here."""

    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring
        self._aead = {kid: AESGCM(key) for kid, key in keyring.encryption_keys.items()}

    # Encryption --------------------------------------------------------------------------
    def seal(self, plaintext: str, *, table: str, column: str, row_id: int) -> Sealed:
        key_id = self.keyring.active_encryption_key
        nonce = os.urandom(NONCE_BYTES)
        ciphertext = self._aead[key_id].encrypt(
            nonce, plaintext.encode("utf-8"), _aad(table, column, row_id, key_id)
        )
        return Sealed(key_id, nonce + ciphertext)

    def open(self, sealed: Sealed, *, table: str, column: str, row_id: int) -> str:
        aead = self._aead.get(sealed.key_id)
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
        key_id = self.keyring.active_lookup_key
        digest = hmac.new(
            self.keyring.lookup_keys[key_id], normalise_email(email).encode(), hashlib.sha256
        ).hexdigest()
        return key_id, digest

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


def ip_prefix(ip: str | None) -> str | None:
    """Keep only the network: /24 for IPv4, /48 for IPv6 (IPv4-mapped IPv6 treated as IPv4)."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
