"""Serving the widget: cache headers, content hashes, the size budget, the HTML pages."""

from __future__ import annotations

import gzip
import json
import re
import shutil
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.widget import assets as assets_module
from service.widget.assets import I18N, STATIC, assets, build, trim
from tests.factories import make_site, post_comment

# 15 KB until the reader controls (report, "my data") and the failure diagnosis (which origin to
# register) came in: about 2.5 KB more, still one round trip on a slow connection.
BUDGET = 17 * 1024
LANGUAGE_BUDGET = 3 * 1024
THREAD = "/2020/12/18/zoom-data"


def test_loader_is_short_lived_and_points_to_the_hashed_script(client: TestClient) -> None:
    response = client.get("/embed.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/javascript")
    assert "max-age=300" in response.headers["cache-control"]
    assert "immutable" not in response.headers["cache-control"]
    name = re.search(r"static/(embed\.[0-9a-f]{16}\.js)", response.text)
    assert name is not None and name.group(1) == assets().script.name


def test_hashed_files_are_immutable_and_gzipped(client: TestClient) -> None:
    a = assets()
    for asset in a.by_name().values():
        response = client.get(f"/static/{asset.name}", headers={"Accept-Encoding": "gzip"})
        assert response.status_code == 200
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers["content-encoding"] == "gzip"
        assert response.headers["cross-origin-resource-policy"] == "cross-origin"
        assert response.content == asset.body  # httpx decodes gzip
        plain = client.get(f"/static/{asset.name}", headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers
        assert plain.content == asset.body
    script = a.script.body.decode()
    assert a.style.name in script
    for lang in a.translations:
        assert lang.name in script
    assert client.get("/static/embed.0000000000000000.js").status_code == 404
    assert client.get("/static/..%2Fassets.py").status_code == 404


def test_hash_changes_with_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Changing one translated string, the script or the styles changes that file's URL (and
    the script's, which names the others), so no reader keeps a stale copy for a year."""
    first = build()
    assert first.script.name == assets().script.name
    assert re.fullmatch(r"embed\.[0-9a-f]{16}\.js", first.script.name)
    assert re.fullmatch(r"embed\.[0-9a-f]{16}\.css", first.style.name)
    static, i18n = tmp_path / "static", tmp_path / "i18n"
    shutil.copytree(STATIC, static)
    shutil.copytree(I18N, i18n)
    monkeypatch.setattr(assets_module, "STATIC", static)
    monkeypatch.setattr(assets_module, "I18N", i18n)
    assert build().script.name == first.script.name  # same content, same names

    english = json.loads((i18n / "en.json").read_text(encoding="utf-8"))
    english["submit"] = "Send it"
    (i18n / "en.json").write_text(json.dumps(english), encoding="utf-8")
    changed = build()
    assert changed.script.name != first.script.name
    assert b"Send it" in changed.script.body
    assert changed.style.name == first.style.name
    assert changed.loader.body != first.loader.body  # the loader points to the new script

    german = json.loads((i18n / "de.json").read_text(encoding="utf-8"))
    german["submit"] = "Abschicken"
    (i18n / "de.json").write_text(json.dumps(german), encoding="utf-8")
    with_german = build()
    old_de = {a.name for a in changed.translations if ".de." in a.name}
    new_de = {a.name for a in with_german.translations if ".de." in a.name}
    assert old_de != new_de
    assert with_german.script.name != changed.script.name  # it names the language file

    (static / "embed.css").write_text(
        (static / "embed.css").read_text(encoding="utf-8") + ".m-x{color:red}\n", encoding="utf-8"
    )
    restyled = build()
    assert restyled.style.name != with_german.style.name
    assert restyled.script.name != with_german.script.name  # it names the stylesheet


def test_script_and_styles_fit_the_17_kb_budget() -> None:
    a = assets()
    together = gzip.compress(a.loader.body) + gzip.compress(a.script.body)
    size = len(together) + len(gzip.compress(a.style.body))
    assert size < BUDGET, f"widget is {size} bytes gzipped; budget {BUDGET}"
    # A reader on a German or French page also fetches one small language file.
    for lang in a.translations:
        assert len(lang.gzipped) < LANGUAGE_BUDGET


def test_every_language_has_every_string_and_placeholder() -> None:
    files = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in I18N.glob("*.json")}
    assert {"en", "de", "fr"} <= set(files)
    english = files["en"]
    for lang, strings in files.items():
        assert set(strings) == set(english), lang
        for key, text in english.items():
            assert set(re.findall(r"\{\w+\}", strings[key])) == set(re.findall(r"\{\w+\}", text)), (
                lang,
                key,
            )
    used = set(re.findall(r"\bt\('([a-z_]+)'", (I18N.parent / "static" / "embed.js").read_text()))
    assert used - {"count_", "sort_", "status_", "out_", "cat_"} <= set(english)
    # Keys chosen by number (pl('chars_left', n)) exist in both forms.
    for key in re.findall(r"\bpl\('([a-z_]+)'", (I18N.parent / "static" / "embed.js").read_text()):
        assert {f"{key}_one", f"{key}_other"} <= set(english), key


def test_trim_keeps_code_lines() -> None:
    assert trim("  // note\n  var a = 1;\n\n  /* x */\n  f(a);\n") == "var a = 1;\nf(a);\n"


def test_demo_page_has_a_strict_csp_and_the_tag(client: TestClient) -> None:
    response = client.get("/demo")
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp
    assert "unsafe-inline" not in csp
    html = response.text
    assert 'src="/embed.js" data-margin-site="demo"' in html
    assert 'data-margin-thread="/2020/12/18/zoom-data"' in html
    assert "<noscript>" in html and "/sites/demo/threads?thread=" in html
    assert "<script>" not in html  # no inline script


def test_noscript_page_escapes_and_nests(client: TestClient) -> None:
    make_site(client.app.state.margin.db)  # type: ignore[attr-defined]
    first = post_comment(
        client, author_name="<b>Eve</b>", website="https://eve.example/", body="Hello **world**"
    ).json()
    post_comment(client, author_name="Bob", body="A reply", parent_id=first["id"])
    response = client.get("/sites/news/threads", params={"thread": THREAD})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "script-src" not in response.headers["content-security-policy"]
    html = response.text
    assert "&lt;b&gt;Eve&lt;/b&gt;" in html and "<b>Eve</b>" not in html
    assert "<strong>world</strong>" in html
    assert 'rel="nofollow ugc noopener noreferrer"' in html
    assert re.search(r'<ol class="replies"><li id="comment-\d+">', html)
    assert "2 comments" in html


def test_noscript_page_paginates_with_links(client: TestClient) -> None:
    make_site(client.app.state.margin.db)  # type: ignore[attr-defined]
    for i in range(55):
        body = f"Point {uuid.uuid4().hex} about the meeting data"
        assert post_comment(client, body=body, email=f"r{i}@example.org").status_code == 201
    html = client.get("/sites/news/threads", params={"thread": THREAD}).text
    assert html.count('<li id="comment-') == 50
    link = re.search(r'<a rel="next" href="([^"]+)"', html)
    assert link is not None
    second = client.get(link.group(1).replace("&amp;", "&")).text
    assert second.count('<li id="comment-') == 5
    assert 'rel="next"' not in second


def test_noscript_page_for_unknown_site_is_404(client: TestClient) -> None:
    assert client.get("/sites/nope/threads", params={"thread": "x"}).status_code == 404


def test_origin_check_tells_the_widget_what_to_register(client: TestClient) -> None:
    """Open to every origin (the widget asks it after a CORS failure), never cached, and it
    says no more than a preflight would: whether this origin may use this site."""
    make_site(client.app.state.margin.db)  # type: ignore[attr-defined]
    allowed = client.get(
        "/sites/news/origin-check",
        params={"origin": "https://news.example.org/"},
        headers={"Origin": "https://elsewhere.example"},
    )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "*"
    assert allowed.headers["cache-control"] == "no-store"
    assert allowed.json() == {
        "site": "news",
        "site_exists": True,
        "origin": "https://news.example.org",
        "allowed": True,
    }
    other = client.get("/sites/news/origin-check", params={"origin": "http://localhost:8000"})
    assert other.json()["allowed"] is False and other.json()["site_exists"] is True
    assert "news.example.org" not in other.text  # the registered origins are not listed
    unknown = client.get("/sites/nope/origin-check", params={"origin": "http://localhost:8000"})
    assert unknown.status_code == 200
    assert unknown.json() == {
        "site": "nope",
        "site_exists": False,
        "origin": "http://localhost:8000",
        "allowed": False,
    }
    assert client.get("/sites/news/origin-check").status_code == 422
