"""S-API-1, S-AUTHZ-3: ``/metrics`` is not public. With MARGIN_METRICS_TOKEN set it needs that
bearer token; without one it answers direct loopback connections only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr, ValidationError

from service.app import create_app
from service.settings import Settings
from tests.conftest import FrozenClock

TOKEN = "metrics-6b1d0f3c9a2e4f57"


def _from(client: TestClient, peer: str) -> TestClient:
    return TestClient(client.app, base_url="http://margin.test", client=(peer, 40000))


@pytest.fixture
def with_token(settings: Settings, clock: FrozenClock) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update={"metrics_token": SecretStr(TOKEN)}), clock=clock)
    with TestClient(app, base_url="http://margin.test") as test_client:
        yield test_client
    app.state.margin.db.dispose()


def test_without_a_token_only_loopback_reads_metrics(client: TestClient) -> None:
    """S-API-1: the default publishes nothing: not to a remote address, not through a reverse
    proxy on the same machine (a request with proxy headers), only to a local scraper."""
    assert _from(client, "127.0.0.1").get("/metrics").status_code == 200
    assert _from(client, "::1").get("/metrics").status_code == 200
    remote = _from(client, "203.0.113.5").get("/metrics")
    assert remote.status_code == 403
    assert "margin_" not in remote.text
    assert remote.json()["error"]["code"] == "forbidden"
    proxied = _from(client, "127.0.0.1").get("/metrics", headers={"X-Forwarded-For": "203.0.113.5"})
    assert proxied.status_code == 403
    via_local_proxy = _from(client, "127.0.0.1").get(
        "/metrics", headers={"X-Forwarded-For": "127.0.0.1"}
    )
    assert via_local_proxy.status_code == 403
    assert (
        _from(client, "127.0.0.1").get("/metrics", headers={"X-Real-IP": "1.2.3.4"}).status_code
        == 403
    )
    assert client.get("/metrics").status_code == 403  # no address at all


def test_with_a_token_it_is_required_from_everywhere(with_token: TestClient) -> None:
    """S-AUTHZ-3: with MARGIN_METRICS_TOKEN only its bearer reads metrics, from any address
    (loopback included); a wrong, missing or non-ASCII token is a 401, never a 500."""
    remote = _from(with_token, "203.0.113.5")
    ok = remote.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200 and "margin_http_request_duration_seconds" in ok.text
    header: dict[str, str | bytes]
    for header in (
        {},
        {"Authorization": "Bearer wrong-token-wrong-token"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": "Bearer caf\u00e9-\u00e9t\u00e9".encode()},  # raw UTF-8 bytes
    ):
        refused = remote.get("/metrics", headers=header)
        assert refused.status_code == 401, header
        assert refused.headers["www-authenticate"] == "Bearer"
        assert "margin_" not in refused.text
    assert _from(with_token, "127.0.0.1").get("/metrics").status_code == 401


@pytest.mark.parametrize("value", ["short", "x" * 300, "has a space in it ok", "caf\u00e9" * 5])
def test_a_weak_or_odd_token_is_a_start_up_error(value: str) -> None:
    with pytest.raises(ValidationError, match="MARGIN_METRICS_TOKEN"):
        Settings(metrics_token=value)  # type: ignore[arg-type]


def test_an_empty_variable_means_no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARGIN_METRICS_TOKEN", "")
    assert Settings().metrics_token is None
    monkeypatch.setenv("MARGIN_METRICS_TOKEN", TOKEN)
    token = Settings().metrics_token
    assert token is not None and token.get_secret_value() == TOKEN
