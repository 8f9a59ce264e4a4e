"""Helpers to run a real ``margin serve`` process on a free loopback port."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx

START_TIMEOUT = 120.0
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class LiveServer:
    process: subprocess.Popen[bytes]
    base: str

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no flush, exactly like a crash."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def start_server(
    database_url: str,
    key_file: Path,
    *,
    workers: int = 1,
    port: int | None = None,
    extra_env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> LiveServer:
    port = port or free_port()
    env = {
        **os.environ,
        "MARGIN_DATABASE_URL": database_url,
        "MARGIN_KEY_FILE": str(key_file),
        "MARGIN_WORKERS": str(workers),
        **(extra_env or {}),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "service", "serve", "--port", str(port)],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=None if os.environ.get("MARGIN_TEST_SERVER_STDERR") else subprocess.DEVNULL,
        start_new_session=True,  # its own process group: workers die with it
    )
    server = LiveServer(process, f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with code {process.returncode}")
        try:
            if httpx.get(f"{server.base}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"server did not start within {START_TIMEOUT:.0f} s")
        time.sleep(0.1)


@contextmanager
def live_server(
    database_url: str,
    key_file: Path,
    *,
    workers: int = 1,
    extra_env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> Iterator[str]:
    server = start_server(database_url, key_file, workers=workers, extra_env=extra_env, cwd=cwd)
    try:
        yield server.base
    finally:
        server.stop()


def run_async(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """asyncio.run in a thread of its own: Playwright's sync API (browser tests) keeps an event
    loop running on the main thread for the whole session, where asyncio.run would refuse."""
    result: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(main()))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return result[0]
