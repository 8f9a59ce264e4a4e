"""The moderation core imports nothing outside the standard library and itself."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import service.moderation

PACKAGE = Path(service.moderation.__file__).parent
FORBIDDEN_CALLS = {"open", "print", "input", "exec", "eval", "__import__"}
FORBIDDEN_MODULES = {
    "random",
    "time",
    "datetime",
    "os",
    "socket",
    "subprocess",
    "secrets",
    "io",
    "pathlib",
    "uuid",
}


def _imports(tree: ast.AST) -> list[tuple[str, int]]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(alias.name, 0) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            out.append((node.module or "", node.level))
    return out


def test_every_module_is_found() -> None:
    names = {p.name for p in PACKAGE.glob("*.py")}
    assert {"__init__.py", "core.py", "policy.py", "pipeline.py", "matcher.py"} <= names


def test_only_stdlib_and_own_imports() -> None:
    for path in sorted(PACKAGE.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for module, level in _imports(tree):
            if level:  # relative: the package itself
                continue
            top = module.split(".")[0]
            assert top in sys.stdlib_module_names or module.startswith("service.moderation"), (
                f"{path.name} imports {module}"
            )
            assert top not in FORBIDDEN_MODULES, (
                f"{path.name} imports {module} (clock/I/O/randomness)"
            )


def test_no_io_calls() -> None:
    for path in sorted(PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in FORBIDDEN_CALLS, f"{path.name} calls {node.func.id}"


def test_modules_stay_small() -> None:
    for path in PACKAGE.glob("*.py"):
        assert len(path.read_text(encoding="utf-8").splitlines()) < 300, path.name
