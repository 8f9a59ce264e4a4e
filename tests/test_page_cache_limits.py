"""The page cache stays within its count and byte limits (a worker's memory must not grow with
the number of threads read), evicting the least recently used page first."""

from __future__ import annotations

from service.comments.cache import PageCache


def _render(body: bytes, calls: list[bytes]):  # type: ignore[no-untyped-def]
    def render() -> bytes:
        calls.append(body)
        return body

    return render


def test_rendered_pages_are_bounded_by_count_least_recently_used_first() -> None:
    cache = PageCache(max_entries=3, max_bytes=1_000_000)
    calls: list[bytes] = []
    for key in ("a", "b", "c"):
        cache.get_or_render(key, _render(key.encode() * 10, calls))
    assert cache.peek("a") is not None  # "a" is now the most recently used
    cache.get_or_render("d", _render(b"d" * 10, calls))
    assert cache.peek("b") is None, "the least recently used page goes first"
    assert [cache.peek(k) is not None for k in ("a", "c", "d")] == [True, True, True]
    cache.get_or_render("a", _render(b"never", calls))
    assert calls[-1] == b"d" * 10, "a kept page is not rendered again"


def test_rendered_pages_are_bounded_by_bytes() -> None:
    cache = PageCache(max_entries=100, max_bytes=250)
    calls: list[bytes] = []
    for key in ("a", "b", "c"):
        cache.get_or_render(key, _render(b"x" * 100, calls))
    assert cache.peek("a") is None and cache._bytes == 200  # 300 bytes > 250: "a" went
    # Replacing a page counts its new size, not both.
    cache.get_or_render("b", _render(b"y" * 100, calls))
    assert cache._bytes == 200
    # One page larger than the whole budget is served but not kept.
    big = cache.get_or_render("big", _render(b"z" * 300, calls))
    assert big == b"z" * 300 and cache.peek("big") is None and cache._bytes == 0


def test_validated_pages_and_learned_queries_are_bounded_too() -> None:
    cache = PageCache(max_entries=2, max_bytes=150)
    for i, key in enumerate(("a", "b", "c")):
        cache.remember(key, data_version=i, etag=f'"{key}"', body=b"x" * 60)
    assert cache.fresh("a", 0) is None and cache.fresh("c", 2) == ('"c"', b"x" * 60)
    assert len(cache._fresh) == 2 and cache._fresh_bytes == 120
    cache.remember("d", data_version=3, etag='"d"', body=b"x" * 100)  # 160 bytes > 150
    assert cache.fresh("b", 1) is None and cache._fresh_bytes == 100
    for i in range(3):
        cache.learn("news", f"thread=t{i}".encode(), (f"t{i}", 20, None, "oldest", None))
    assert cache.params_for("news", b"thread=t0") is None
    assert cache.params_for("news", b"thread=t2") == ("t2", 20, None, "oldest", None)
