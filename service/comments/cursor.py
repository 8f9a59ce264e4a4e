"""Opaque keyset-pagination cursors."""

from __future__ import annotations

import base64
import json

from service.bounded import MAX_ID
from service.errors import Invalid


def encode(*parts: int | str) -> str:
    raw = json.dumps(list(parts), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, shape: tuple[type, ...]) -> tuple[int | str, ...]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        parts = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Invalid("cursor", "is not a cursor this server issued") from exc
    if not isinstance(parts, list) or len(parts) != len(shape):
        raise Invalid("cursor", "is not a cursor this server issued")
    for part, kind in zip(parts, shape, strict=True):
        if type(part) is not kind:
            raise Invalid("cursor", "is not a cursor this server issued")
        # Every number a cursor carries is an id or a count of rows: within an id column's
        # range, or the query it feeds would overflow (500) instead of answering.
        if isinstance(part, int) and not 0 <= part <= MAX_ID:
            raise Invalid("cursor", "is not a cursor this server issued")
    return tuple(parts)
