"""An unexpected error is a JSON 500 that says nothing about the code; a lost database is a
503 with when to retry; a database error that is not a lost connection is a 500 (the JSON
handlers of service/errors.py, which no other test reaches)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

SECRET = "secret detail of the failure"


class _Orig(Exception):
    pass


def _raise(error: Exception):  # type: ignore[no-untyped-def]
    def route() -> None:
        raise error

    return route


ERRORS: dict[str, Exception] = {
    "unexpected": RuntimeError(SECRET),
    "dbapi": DBAPIError("SELECT 1", {}, _Orig(SECRET)),
    "lost": DBAPIError("SELECT 1", {}, _Orig(SECRET), connection_invalidated=True),
    "operational": OperationalError("SELECT 1", {}, _Orig(SECRET)),
    "pool": PoolTimeoutError(SECRET),
}


@pytest.fixture
def failing(client: TestClient) -> Iterator[TestClient]:
    """The real app with one route per error; exceptions answered, not re-raised."""
    app = client.app
    for name, error in ERRORS.items():
        app.add_api_route(f"/boom/{name}", _raise(error))  # type: ignore[attr-defined]
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.mark.parametrize("name", ["unexpected", "dbapi"])
def test_unexpected_errors_are_a_json_500_without_details(failing: TestClient, name: str) -> None:
    response = failing.get(f"/boom/{name}")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"error": {"code": "internal", "message": "internal error"}}
    assert SECRET not in response.text and "Traceback" not in response.text


def test_a_database_error_is_logged_by_its_type_only(
    failing: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    """The driver's message may quote the statement's values (an email): only the type of the
    error is logged."""
    with caplog.at_level(logging.ERROR, logger="margin.errors"):
        assert failing.get("/boom/dbapi").status_code == 500
    logged = [r.getMessage() for r in caplog.records if r.name == "margin.errors"]
    assert logged == ["database error: _Orig"]
    assert all(r.exc_info is None for r in caplog.records if r.name == "margin.errors")


@pytest.mark.parametrize("name", ["lost", "operational", "pool"])
def test_a_lost_database_is_a_503_with_retry_after(failing: TestClient, name: str) -> None:
    response = failing.get(f"/boom/{name}")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json()["error"]["code"] == "unavailable"
    assert SECRET not in response.text
