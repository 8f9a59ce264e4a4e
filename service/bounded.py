"""Bounded request values: the one definition of an id and of plain text, used by every
route and input model, so nothing out of range or unstorable reaches a query.

Ids: PostgreSQL's id columns are ``integer`` (at most 2**31 - 1) and SQLite's are 64-bit, so an
id above the smaller bound names nothing on either database; it is refused with 422 before a
query could overflow (500 on PostgreSQL at 2**31, on SQLite at 2**63).

Text: query and path values are checked like body fields (NUL cannot be stored or even sent
to PostgreSQL; control and bidi controls have no place in keys, slugs or categories).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator, Field

from service import textcheck

MAX_ID = 2**31 - 1  # PostgreSQL ``integer``; SQLite's 2**63 - 1 is larger

# An id sent in a body (parent id, an item of a list of ids).
DbId = Annotated[int, Field(ge=1, le=MAX_ID)]
# An id in the path (``/comments/{comment_id}``).
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
# An optional id in the query string (``root``).
QueryId = Annotated[int | None, Query(ge=1, le=MAX_ID)]


def _plain(value: str) -> str:
    textcheck.refuse_controls(value)
    return value


# A single-line text value (a key, a slug, a category): no control characters (NUL included),
# no lone surrogates, no bidi controls. Never changed, only accepted or refused: a thread key
# is looked up exactly as sent.
Plain = Annotated[str, AfterValidator(_plain)]


# The moderator API's ``?site=`` and ``/sites/{site}`` (the slug rules of sites.service).
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
SLUG_MAX_LENGTH = 64
SlugQuery = Annotated[str, Query(min_length=1, max_length=SLUG_MAX_LENGTH, pattern=SLUG_PATTERN)]
SlugPath = Annotated[str, Path(min_length=1, max_length=SLUG_MAX_LENGTH, pattern=SLUG_PATTERN)]
# An opaque page cursor (service.comments.cursor): URL-safe base64.
CursorQuery = Annotated[str | None, Query(max_length=200, pattern=r"^[A-Za-z0-9_=-]*$")]
