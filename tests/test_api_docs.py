"""The API reference: /docs from Margin's own files under its own CSP; api-contract.md in step."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from service.apidocs import contract
from service.app import create_app
from service.settings import Settings


def _app(tmp_path: Path, **kwargs: object) -> TestClient:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/margin.db", key_file=tmp_path / "keys.json", **kwargs
    )
    return TestClient(create_app(settings), base_url="http://margin.test")


def test_docs_page_loads_only_margins_own_files(tmp_path: Path) -> None:
    """The page names no other host, has no inline script, and its CSP allows only 'self'."""
    with _app(tmp_path) as client:
        page = client.get("/docs")
        assert page.status_code == 200
        csp = page.headers["content-security-policy"]
        assert "script-src 'self';" in csp and "default-src 'none'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "http" not in csp
        scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page.text, re.S)
        assert scripts, "the page starts Swagger UI"
        assert all(body.strip() == "" for _, body in scripts), "no inline script"
        sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert all(s.startswith(("/docs/static/", "/openapi.json", "data:")) for s in sources)
        for src in sources:
            if src.startswith("/docs/static/"):
                got = client.get(src)
                assert got.status_code == 200, src
                assert len(got.content) > 100
        bundle = client.get(
            "/docs/static/swagger-ui-bundle.js", headers={"Accept-Encoding": "gzip"}
        )
        assert bundle.headers["content-type"].startswith("application/javascript")
        assert client.get("/docs/static/swagger-ui.LICENSE").status_code == 200
        assert client.get("/docs/static/..%2Fcontract.py").status_code == 404
        assert client.get("/docs/static/nothing.js").status_code == 404
        assert client.get("/openapi.json").json()["info"]["title"] == "Margin"


def test_production_hides_docs_unless_enabled(tmp_path: Path) -> None:
    with _app(tmp_path) as client:  # development creates the key file
        assert client.get("/docs").status_code == 200
    with _app(tmp_path, env="production") as client:
        assert client.get("/docs").status_code == 404
        assert client.get("/docs/static/swagger-ui-bundle.js").status_code == 404
        assert client.get("/openapi.json").status_code == 404
    with _app(tmp_path, env="production", docs_enabled=True) as client:
        assert client.get("/docs").status_code == 200


def test_every_operation_is_described() -> None:
    """Each operation has a summary and a description in plain words (shown at /docs)."""
    document = contract.current_openapi()
    missing = [
        f"{method.upper()} {path}"
        for path, ops in document["paths"].items()
        for method, op in ops.items()
        if not op.get("summary") or len(op.get("description") or "") < 20
    ]
    assert missing == []


def test_api_contract_md_is_generated_from_openapi() -> None:
    """docs/api-contract.md is exactly what the generator makes of the current OpenAPI; after
    changing the API run `python -m service.apidocs.contract --write`."""
    expected = contract.render(contract.current_openapi())
    assert contract.CONTRACT.read_text(encoding="utf-8") == expected
    for path in contract.current_openapi()["paths"]:
        assert f" {path}`" in expected
