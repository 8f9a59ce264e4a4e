"""``margin serve --workers N`` on Linux: a listening socket per worker, so connections opened
together spread over the workers; a second server on the port fails; a dead worker is
replaced (service.workers)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from service.workers import balances_connections
from tests.live import free_port, start_server

pytestmark = pytest.mark.skipif(not balances_connections(), reason="Linux SO_REUSEPORT only")


def _children(pid: int) -> list[int]:
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as children:
            found += [int(child) for child in children.read().split()]
    return found


def _socket_inodes(pid: int) -> set[int]:
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[len("socket:[") : -1]))
    return inodes


def _tcp_sockets(port: int) -> dict[int, str]:
    """Inode -> state ("LISTEN" or "ESTABLISHED", ...) of the IPv4 sockets on local ``port``."""
    states = {"0A": "LISTEN", "01": "ESTABLISHED"}
    found = {}
    with open("/proc/net/tcp") as table:
        next(table)
        for line in table:
            fields = line.split()
            local_port = int(fields[1].split(":")[1], 16)
            if local_port == port:
                found[int(fields[9])] = states.get(fields[3], fields[3])
    return found


def _workers(server_pid: int, port: int) -> dict[int, list[str]]:
    """Each worker process of the server: the states of its sockets on ``port``."""
    sockets = _tcp_sockets(port)
    workers = {}
    for child in _children(server_pid):
        mine = [sockets[inode] for inode in _socket_inodes(child) if inode in sockets]
        if "LISTEN" in mine:
            workers[child] = mine
    return workers


def _wait_for(condition: object, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


@pytest.mark.slow
def test_connections_opened_together_spread_over_the_workers(tmp_path: Path) -> None:
    """Each of two workers listens on a socket of its own, and 16 keep-alive connections
    opened at once are served by both (all on one worker: about 3 in 100,000 by chance)."""
    server = start_server(f"sqlite:///{tmp_path / 'margin.db'}", tmp_path / "keys.json", workers=2)
    port = int(urlsplit(server.base).port or 0)
    clients = []
    try:
        _wait_for(lambda: len(_workers(server.process.pid, port)) == 2)  # both started
        for _ in range(16):
            clients.append(socket.create_connection(("127.0.0.1", port)))
        for client in clients:
            client.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        for client in clients:
            assert client.recv(4096).startswith(b"HTTP/1.1 200")
        workers = _workers(server.process.pid, port)
        assert len(workers) == 2
        served = {pid: states.count("ESTABLISHED") for pid, states in workers.items()}
        assert sum(served.values()) == 16
        assert all(count > 0 for count in served.values()), served
    finally:
        for client in clients:
            client.close()
        server.stop()


@pytest.mark.slow
def test_a_second_server_on_the_port_fails_and_a_dead_worker_is_replaced(
    tmp_path: Path,
) -> None:
    """A second ``margin serve`` on a port in use exits with an error instead of joining
    the first one's sockets; a worker killed is replaced and the server keeps answering."""
    port = free_port()
    url = f"sqlite:///{tmp_path / 'margin.db'}"
    server = start_server(url, tmp_path / "keys.json", workers=2, port=port)
    try:
        second = subprocess.run(
            [sys.executable, "-m", "service", "serve", "--port", str(port), "--workers", "2"],
            env={
                **os.environ,
                "MARGIN_DATABASE_URL": url,
                "MARGIN_KEY_FILE": str(tmp_path / "keys.json"),
            },
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert second.returncode == 3
        assert "cannot listen" in second.stderr

        _wait_for(lambda: len(_workers(server.process.pid, port)) == 2)
        before = sorted(_workers(server.process.pid, port))
        os.kill(before[0], signal.SIGKILL)
        _wait_for(
            lambda: (
                len(_workers(server.process.pid, port)) == 2
                and before[0] not in _workers(server.process.pid, port)
            )
        )
        assert httpx.get(f"{server.base}/healthz", timeout=5).status_code == 200
    finally:
        server.stop()
    assert server.process.returncode == 0
