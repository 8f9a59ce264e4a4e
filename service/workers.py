"""Several worker processes, each with a listening socket of its own (Linux ``SO_REUSEPORT``).

uvicorn's own ``--workers`` shares one listening socket, and a worker that wakes up for a
connection accepts every connection waiting at that moment: a client or proxy that opens its
pool of keep-alive connections at once (a reverse proxy's upstream pool, a load generator)
finds all of them on one worker while the other idles. Measured with 16 connections and 2
workers: in some runs one worker served everything (CPU 96 % and 0 %), and posts went at the
rate of one worker (docs/performance.md, "Writes"). With a socket per worker the kernel spreads
new connections over the workers' sockets by their address and port.

The parent process only supervises: it checks that the address is free (so a second server on
the same port fails instead of silently sharing it), starts the workers, restarts one that
dies, stops when one cannot start, and passes SIGINT/SIGTERM on for a graceful shutdown.
Elsewhere than Linux (where ``SO_REUSEPORT`` does not balance) uvicorn's own workers run.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import sys
import threading
import time
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE  # a worker that could not start (bad app, socket)

from service.observability import configure_logging

# A worker that dies is started again after this long (a crash loop stays slow).
RESTART_DELAY_S = 1.0
# How long a worker may take to finish its requests on shutdown before it is killed.
STOP_TIMEOUT_S = 30.0

logger = logging.getLogger("uvicorn.error")


def balances_connections() -> bool:
    """Whether this platform spreads connections over ``SO_REUSEPORT`` sockets."""
    return sys.platform == "linux" and hasattr(socket, "SO_REUSEPORT")


def listening_socket(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _worker(config_kwargs: dict[str, Any]) -> None:
    configure_logging()
    config = uvicorn.Config(**{**config_kwargs, "workers": 1})
    try:
        sock = listening_socket(config.host, config.port, reuse_port=True)
    except OSError as error:
        logger.error("cannot listen on %s:%s: %s", config.host, config.port, error)
        sys.exit(STARTUP_FAILURE)
    server = uvicorn.Server(config)
    server.run(sockets=[sock])
    if not server.started:
        sys.exit(STARTUP_FAILURE)


class Supervisor:
    def __init__(self, config_kwargs: dict[str, Any], workers: int) -> None:
        self._kwargs = config_kwargs
        self._count = workers
        self._context = multiprocessing.get_context("spawn")
        self._processes: list[Any] = []
        self._stop = threading.Event()

    def _start_one(self) -> Any:
        process = self._context.Process(target=_worker, args=(self._kwargs,), daemon=False)
        process.start()
        return process

    def run(self) -> int:
        host, port = self._kwargs["host"], self._kwargs["port"]
        try:
            # A plain bind fails if anything listens there, our own workers included.
            listening_socket(host, port, reuse_port=False).close()
        except OSError as error:
            logger.error("cannot listen on %s:%s: %s", host, port, error)
            return STARTUP_FAILURE
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self._stop.set())
        logger.info("Started parent process; %d workers, a listening socket each", self._count)
        self._processes = [self._start_one() for _ in range(self._count)]
        status = 0
        while not self._stop.wait(0.5):
            for index, process in enumerate(self._processes):
                if process.is_alive():
                    continue
                if process.exitcode == STARTUP_FAILURE:
                    logger.error("worker [%s] could not start; stopping", process.pid)
                    status = STARTUP_FAILURE
                    self._stop.set()
                    break
                logger.warning(
                    "worker [%s] died (%s); starting another", process.pid, process.exitcode
                )
                time.sleep(RESTART_DELAY_S)
                self._processes[index] = self._start_one()
        self._stop_all()
        return status

    def _stop_all(self) -> None:
        for process in self._processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes its requests, then exits
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for process in self._processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
        logger.info("Stopping parent process")
