"""The worker caps glibc's malloc arenas (resident memory per worker, docs/performance.md)."""

from __future__ import annotations

import gc
import platform
import tracemalloc

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.memory import limit_malloc_arenas, release_free_memory
from service.settings import Settings
from service.spam.cli import DEFAULT_MODEL
from service.spam.model import load_model


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="a glibc setting")
def test_arena_cap_is_applied_on_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert limit_malloc_arenas() is True


def test_an_operators_malloc_arena_max_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_malloc_arenas() is False


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="a glibc function")
def test_free_memory_is_released_on_glibc() -> None:
    assert release_free_memory() is True


def test_the_server_loads_the_spam_model_compactly() -> None:
    """Without feature names and with weights in one array, the shipped model keeps under
    16 MiB of live Python memory (it was ~30 MiB with dicts), and scores the same."""
    full = load_model(DEFAULT_MODEL)
    tracemalloc.start()
    try:
        compact = load_model(DEFAULT_MODEL, names=False)
        gc.collect()
        live, _peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert live < 16 * 2**20
    assert compact.names == {}
    assert len(compact.weights) == len(full.weights) > 10_000
    text = "check out my channel http://x.example.com and subscribe"
    assert compact.score(text) == full.score(text)
    assert dict(compact.weights.items()) == dict(full.weights.items())
    missing = next(s for s in range(1 << compact.config.bits) if s not in full.weights)
    with pytest.raises(KeyError):
        compact.weights[missing]


def test_the_worker_thread_pool_is_sized_from_settings(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"request_threads": 7}))
    with TestClient(app) as client:
        tokens = client.portal.call(
            lambda: anyio.to_thread.current_default_thread_limiter().total_tokens
        )
    assert tokens == 7
    assert Settings().request_threads == 16
