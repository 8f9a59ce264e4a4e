"""Every 4xx (and the 503) each operation can answer, in the OpenAPI, with the one error shape.

Most answers follow from the app's conventions, so they are derived from each operation when
the schema is built (a moderator route: 401; a site or id: 404; a JSON body: 400, 413 and 422;
a widget write: 403 and 415; the database: 503); what only a handler knows (409, 429, the PII
scope's 403) is declared on the route with ``responses=errors_doc(...)``. A new route is
documented without anyone remembering to.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel


class FieldProblem(BaseModel):
    field: str
    message: str


class ErrorDetail(BaseModel):
    code: str
    message: str
    fields: list[FieldProblem] | None = None  # 422: each wrong field and what is wrong
    retry_after: int | None = None  # 429: seconds until a retry can succeed


class ErrorBody(BaseModel):
    """Every error answer: ``{"error": {"code": ..., "message": ...}}`` (service.errors)."""

    error: ErrorDetail


WHY = {
    400: "The request body is not valid JSON.",
    401: "A valid moderator token is required (Authorization: Bearer ...).",
    403: "Not allowed: an Origin not registered for the site, a closed article or edit "
    "window, or a token without the scope this needs.",
    404: "No such site or object, or not one of yours (the same answer either way).",
    409: "A conflict: a duplicate comment, or an Idempotency-Key reused for another request.",
    413: "The request body is larger than the server accepts.",
    415: "Writes must be sent as Content-Type: application/json.",
    422: "A value is out of range, too long, or holds characters that are refused; "
    "`fields` names each one.",
    429: "Too many requests: wait Retry-After seconds.",
    503: "The database is unavailable; retry after Retry-After seconds.",
}


def errors_doc(*codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for the given statuses, each with the shared error body."""
    return {code: {"description": WHY[code], "model": ErrorBody} for code in codes}


MODERATION = "/api/v1/moderation/"
PUBLIC = "/api/v1/sites/{site}/"
WRITES = {"post", "patch", "put", "delete"}


def _derived(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    """What the app's conventions make an operation answer, from its OpenAPI entry: every
    moderator route needs a token (service.deps.current_moderator); every public route names a
    site (current_site: 404) and its writes pass checked_write_site (403, and 415 for bodies);
    ids and sites that are not there, or not the moderator's, are 404."""
    codes = {503}
    if operation.get("parameters") or "requestBody" in operation:
        codes.add(422)
    if "requestBody" in operation:
        codes |= {400, 413}
    names = {p.get("name") for p in operation.get("parameters", [])}
    if path.startswith(MODERATION):
        codes.add(401)
        if names & {"site", "comment_id"}:
            codes.add(404)
    if path.startswith(PUBLIC):
        codes.add(404)
        if method in WRITES:
            codes.add(403)
            if "requestBody" in operation:
                codes.add(415)
    return codes


def document_errors(app: FastAPI) -> None:
    """Add the derived error answers to every API operation of the app's OpenAPI."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name, definition in (
            ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
            .pop("$defs", {})
            .items()
        ):
            components.setdefault(name, definition)
        components["ErrorBody"] = ErrorBody.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        components["ErrorBody"].pop("$defs", None)
        # FastAPI's default 422 body; this app answers every error with ErrorBody.
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
        for path, item in schema["paths"].items():
            if not path.startswith("/api/"):
                continue
            for method, operation in item.items():
                answers = operation.setdefault("responses", {})
                declared = {int(code) for code in answers if code.isdigit()}
                for code in _derived(path, method, operation) | declared:
                    if 400 <= code < 600:
                        answers[str(code)] = {"description": WHY[code], "content": body}
                operation["responses"] = dict(sorted(answers.items()))
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
