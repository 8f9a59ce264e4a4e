"""The README's quick start, literally: a fresh clone, `make run` on a non-default port, the
"Try it with curl" block as written, then `git status` (clean) and the size of `.venv`.

This is the newcomer's first five minutes; it runs in `make test` (a few minutes at most: the
virtual environment is made from uv's cache)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.live import free_port

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
VENV_LIMIT_MB = 197  # half the 395 MB the whole dev toolchain took

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def curl_block() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("### Try it with curl", 1)[1]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match, "README: no ```sh block under 'Try it with curl'"
    return match.group(1)


def _uv_dir() -> str | None:
    found = shutil.which("uv")
    if found:
        return str(Path(found).parent)
    # The uv that `make` installed into this checkout's .tools/; else the clone installs its own.
    local = REPO / ".tools" / "bin" / "uv"
    return str(local.parent) if local.exists() else None


def _json_values(text: str) -> list[object]:
    decoder = json.JSONDecoder()
    values, index = [], 0
    while index < len(text):
        if text[index].isspace():
            index += 1
            continue
        value, index = decoder.raw_decode(text, index)
        values.append(value)
    return values


def _du_mb(path: Path) -> float:
    total = sum(p.lstat().st_size for p in path.rglob("*") if not p.is_symlink())
    return total / 1e6


def test_readme_quick_start_on_a_fresh_clone(tmp_path: Path) -> None:
    if shutil.which("make") is None or shutil.which("curl") is None:
        pytest.skip("make and curl are needed")
    clone = tmp_path / "margin"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
    port = free_port()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("MARGIN_", "VIRTUAL_ENV", "UV_"))
    }
    env["MARGIN_PORT"] = str(port)
    uv_dir = _uv_dir()
    if uv_dir:
        env["PATH"] = f"{uv_dir}:{env['PATH']}"
    log = (tmp_path / "make-run.log").open("wb")
    server = subprocess.Popen(
        ["make", "run"],
        cwd=clone,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        while True:
            assert server.poll() is None, (tmp_path / "make-run.log").read_text()[-3000:]
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "make run did not serve within 10 minutes"
            time.sleep(0.5)

        walk = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", curl_block()],
            cwd=clone,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert walk.returncode == 0, walk.stderr
        reply, queue, decision, public = _json_values(walk.stdout)
        assert isinstance(reply, dict) and reply["status"] == "pending", reply
        assert reply["reason"]  # held, and told why
        assert isinstance(queue, dict) and reply["id"] in [c["id"] for c in queue["items"]]
        assert isinstance(decision, dict) and decision["status"] == "approved", decision
        assert isinstance(public, dict)
        bodies = [c["html"] for c in public["comments"]]
        assert any("<em>affected</em>" in b for b in bodies), bodies
        assert "ana@example.org" not in walk.stdout  # the email is in no response
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()

    status = subprocess.run(
        ["git", "status", "--porcelain", "--ignored=no"],
        cwd=clone,
        capture_output=True,
        text=True,
        check=True,
    )
    assert status.stdout == "", f"make run left files git would add:\n{status.stdout}"
    # uv installed into .tools/ (when it is not on the PATH) is ignored too
    ignored = subprocess.run(["git", "check-ignore", "-q", ".tools/bin/uv"], cwd=clone, check=False)
    assert ignored.returncode == 0, ".tools/ is not in .gitignore"
    assert not (clone / ".venv" / "bin" / "pytest").exists(), "make run installed dev tools"
    size = _du_mb(clone / ".venv")
    assert size <= VENV_LIMIT_MB, f".venv is {size:.0f} MB"
