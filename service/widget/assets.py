"""The widget's static files, assembled and content-hashed once at start-up.

``embed.js`` (the tag publishers paste) is a tiny loader with a short cache lifetime; it loads
``/static/embed.<hash>.js``, which is served ``immutable`` for a year, as is its stylesheet. The
translations (one JSON file per language in ``i18n/``) are built into the hashed script, so a
changed string changes the URL and no reader keeps a stale copy.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

HERE = Path(__file__).parent
STATIC = HERE / "static"
I18N = HERE / "i18n"
TEMPLATES = HERE / "templates"

JS = "application/javascript; charset=utf-8"
CSS = "text/css; charset=utf-8"
JSON = "application/json"


@dataclass(frozen=True)
class Asset:
    name: str
    media_type: str
    body: bytes
    gzipped: bytes


@dataclass(frozen=True)
class Assets:
    loader: Asset
    script: Asset
    style: Asset
    page_style: Asset
    languages: tuple[str, ...]
    translations: tuple[Asset, ...]

    def by_name(self) -> dict[str, Asset]:
        return {a.name: a for a in (self.script, self.style, self.page_style, *self.translations)}


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def _asset(stem: str, ext: str, media_type: str, text: str, *, hashed: bool = True) -> Asset:
    body = text.encode()
    name = f"{stem}.{_digest(body)}.{ext}" if hashed else f"{stem}.{ext}"
    return Asset(name, media_type, body, gzip.compress(body, compresslevel=9, mtime=0))


def load_translations() -> dict[str, dict[str, str]]:
    """Every ``i18n/<lang>.json``; English is the reference every other file must match."""
    found: dict[str, dict[str, str]] = {}
    for path in sorted(I18N.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise ValueError(f"{path.name}: expected an object of strings")
        found[path.stem] = data
    if "en" not in found:
        raise ValueError("i18n/en.json is required")
    return found


def trim(source: str) -> str:
    """A conservative size trim for our own sources: drop indentation, blank lines and
    whole-line ``//`` or ``/* */`` comments. Safe because the sources keep every statement
    on its own line and use no multi-line strings or template literals."""
    kept = []
    for line in source.splitlines():
        line = line.strip()
        if not line or line.startswith("//") or (line.startswith("/*") and line.endswith("*/")):
            continue
        kept.append(line)
    return "\n".join(kept) + "\n"


def _compact(data: dict[str, str]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def build() -> Assets:
    translations = load_translations()
    style = _asset("embed", "css", CSS, trim((STATIC / "embed.css").read_text(encoding="utf-8")))
    page_style = _asset("page", "css", CSS, (STATIC / "page.css").read_text(encoding="utf-8"))
    # English is built into the script; other languages are small JSON files fetched on demand.
    languages = [
        _asset(f"i18n.{lang}", "json", JSON, _compact(strings))
        for lang, strings in translations.items()
        if lang != "en"
    ]
    lang_map = json.dumps({a.name.split(".")[1]: a.name for a in languages}, sort_keys=True)
    source = (
        trim((STATIC / "embed.js").read_text(encoding="utf-8"))
        .replace("__MARGIN_CSS__", style.name)
        .replace("__MARGIN_I18N__", _compact(translations["en"]))
        .replace("__MARGIN_LANGS__", lang_map)
    )
    script = _asset("embed", "js", JS, source)
    loader_source = trim((STATIC / "loader.js").read_text(encoding="utf-8"))
    loader = _asset(
        "embed", "js", JS, loader_source.replace("__MARGIN_JS__", script.name), hashed=False
    )
    return Assets(loader, script, style, page_style, tuple(sorted(translations)), tuple(languages))


@cache
def assets() -> Assets:
    return build()


def template(name: str) -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8")
