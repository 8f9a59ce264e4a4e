"""Keeping a worker's resident memory small.

glibc gives each thread that allocates concurrently its own malloc arena (up to 8 per core);
with the request thread pool's 40 threads a worker's freed memory stayed spread over many
arenas and was not returned, which added tens of megabytes under write load. Two arenas are
plenty for a process that runs Python one thread at a time (the GIL).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

M_ARENA_MAX = -8  # from glibc's malloc.h
ARENAS = 2


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Cap glibc's malloc arenas for this process; True when applied. MALLOC_ARENA_MAX in the
    environment wins (an operator's choice); other C libraries are left alone."""
    if os.environ.get("MALLOC_ARENA_MAX"):
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_ARENA_MAX, arenas))


def release_free_memory() -> bool:
    """Hand memory freed inside the C heap back to the system (glibc ``malloc_trim``); True when
    called. Loading the spam model parses ~30 MB of JSON that is freed right after, but glibc
    keeps the freed pages mapped (about 60 MB of a worker's resident memory) until trimmed."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        malloc_trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return False
    malloc_trim(0)
    return True
