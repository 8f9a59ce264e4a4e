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
from typing import Any

M_ARENA_MAX = -8  # from glibc's malloc.h
ARENAS = 2


def _glibc_function(name: str) -> Any | None:
    """A function of the process's C library, or None where it has none by that name."""
    library = ctypes.util.find_library("c")
    if library is None:
        return None
    try:
        return getattr(ctypes.CDLL(library), name)
    except (OSError, AttributeError):
        return None


def limit_malloc_arenas(arenas: int = ARENAS) -> bool:
    """Cap glibc's malloc arenas for this process; True when applied. MALLOC_ARENA_MAX in the
    environment wins (an operator's choice); other C libraries are left alone."""
    if os.environ.get("MALLOC_ARENA_MAX"):
        return False
    mallopt = _glibc_function("mallopt")
    return mallopt is not None and bool(mallopt(M_ARENA_MAX, arenas))


def release_free_memory() -> bool:
    """Hand memory freed inside the C heap back to the system (glibc ``malloc_trim``); True when
    called. Loading the spam model parses ~30 MB of JSON that is freed right after, but glibc
    keeps the freed pages mapped (about 60 MB of a worker's resident memory) until trimmed."""
    malloc_trim = _glibc_function("malloc_trim")
    if malloc_trim is None:
        return False
    malloc_trim(0)
    return True
