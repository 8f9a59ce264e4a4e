"""Domain errors and the one place that turns every error into a clear JSON answer.

Error tree::

    MarginError            (status, code, message)
      NotFound             404  also for another site's objects: no existence oracle
      Forbidden            403
      Conflict             409  duplicate comment, idempotency-key reuse
      Invalid              422  a field is wrong for a reason only the service can see
      RateLimited          429  with Retry-After
      Unavailable          503  database down; with Retry-After
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("margin.errors")

DB_RETRY_AFTER_SECONDS = 5


class MarginError(Exception):
    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        fields: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields
        self.headers = headers or {}
        self.extra = extra or {}


class NotFound(MarginError):
    status = 404
    code = "not_found"


class Forbidden(MarginError):
    status = 403
    code = "forbidden"


class Conflict(MarginError):
    status = 409
    code = "conflict"


class Invalid(MarginError):
    status = 422
    code = "validation_error"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}", fields=[{"field": field, "message": message}])


class RateLimited(MarginError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(
            message, headers={"Retry-After": str(retry_after)}, extra={"retry_after": retry_after}
        )


class Unavailable(MarginError):
    status = 503
    code = "unavailable"


class Unauthorized(MarginError):
    status = 401
    code = "unauthorized"

    def __init__(self, message: str) -> None:
        super().__init__(message, headers={"WWW-Authenticate": "Bearer"})


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    error.update({k: v for k, v in extra.items() if v is not None})
    return {"error": error}


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _message(err: dict[str, Any]) -> str:
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        return "is not an accepted field"
    if kind == "missing":
        return "is required"
    if kind == "json_invalid":
        return "request body is not valid JSON"
    msg = str(err.get("msg", "is invalid"))
    return msg.removeprefix("Value error, ")


def _sentence(field: str, message: str) -> str:
    """ "body must not be blank", not "body body must not be blank": many validators name
    the field in their message already."""
    name = field.rsplit(".", 1)[-1]
    return message if message.startswith(f"{name} ") else f"{field} {message}"


def refusal_response(exc: MarginError) -> JSONResponse:
    """What a refused request is answered (the MarginError handler's response)."""
    body = error_body(exc.code, exc.message, fields=exc.fields, **exc.extra)
    return JSONResponse(body, status_code=exc.status, headers=exc.headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(MarginError)
    async def _margin(_: Request, exc: MarginError) -> JSONResponse:
        return refusal_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [
            {"field": _field_name(tuple(e["loc"])), "message": _message(e)} for e in exc.errors()
        ]
        if any(e.get("type") == "json_invalid" for e in exc.errors()):
            body = error_body("invalid_json", "request body is not valid JSON")
            return JSONResponse(body, status_code=400)
        summary = "; ".join(_sentence(f["field"], f["message"]) for f in fields[:5])
        return JSONResponse(error_body("validation_error", summary, fields=fields), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        return JSONResponse(
            error_body(code, message), status_code=exc.status_code, headers=exc.headers
        )

    async def _database(_: Request, exc: Exception) -> JSONResponse:
        log.warning("database unavailable: %s", type(exc).__name__)
        return JSONResponse(
            error_body("unavailable", "the database is unavailable; please retry shortly"),
            status_code=503,
            headers={"Retry-After": str(DB_RETRY_AFTER_SECONDS)},
        )

    app.add_exception_handler(OperationalError, _database)
    app.add_exception_handler(PoolTimeoutError, _database)

    @app.exception_handler(DBAPIError)
    async def _dbapi(request: Request, exc: DBAPIError) -> JSONResponse:
        if exc.connection_invalidated:
            return await _database(request, exc)
        log.error("database error: %s", type(exc.orig).__name__)
        return JSONResponse(error_body("internal", "internal error"), status_code=500)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return JSONResponse(error_body("internal", "internal error"), status_code=500)
