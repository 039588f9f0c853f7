"""TTLCache (cachetools inside): LRU eviction, expiry on an injected clock, size 0 = off, thread safety (pure)."""

from __future__ import annotations

import math
import threading

import pytest

from catalog_search.core.cache import TTLCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_get_put_and_lru_eviction() -> None:
    cache: TTLCache[str] = TTLCache(2, 60, clock=Clock())
    cache.put("a", "A")
    cache.put("b", "B")
    assert cache.get("a") == "A"          # a is now the most recent
    cache.put("c", "C")                   # evicts b
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == ("A", None, "C")
    assert len(cache) == 2 and cache.hits == 3 and cache.misses == 1


def test_entries_expire_after_ttl() -> None:
    clock = Clock()
    cache: TTLCache[int] = TTLCache(10, 5.0, clock=clock)
    cache.put("k", 1)
    clock.now += 4.999
    assert cache.get("k") == 1
    clock.now += 0.001
    assert cache.get("k") is None and len(cache) == 0
    cache.put("k", 2)                     # a re-put restarts the ttl
    clock.now += 4
    assert cache.get("k") == 2


def test_size_zero_disables_and_bad_args() -> None:
    cache: TTLCache[int] = TTLCache(0, 1)
    cache.put("k", 1)
    assert cache.get("k") is None and len(cache) == 0
    with pytest.raises(ValueError):
        TTLCache(-1, 1)
    with pytest.raises(ValueError):
        TTLCache(1, 0)


def test_clear_and_tuple_keys() -> None:
    cache: TTLCache[int] = TTLCache(4, 1)
    cache.put(("model", 384, "instr", "q"), 1)
    assert cache.get(("model", 384, "instr", "q")) == 1
    assert cache.get(("model", 384, "other", "q")) is None
    cache.clear()
    assert len(cache) == 0


def test_concurrent_use_keeps_the_bound() -> None:
    cache: TTLCache[int] = TTLCache(50, 60)

    def work(offset: int) -> None:
        for i in range(2000):
            cache.put((offset, i % 80), i)
            cache.get((offset, (i * 7) % 80))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(cache) == 50
    assert cache.hits + cache.misses == 8 * 2000


def test_infinite_ttl_keeps_entries_until_evicted() -> None:
    clock = Clock()
    cache: TTLCache[int] = TTLCache(2, math.inf, clock=clock)    # the ingest document-vector cache
    cache.put("a", 1)
    clock.now += 1e12
    assert cache.get("a") == 1
    cache.put("b", 2)
    cache.put("c", 3)                     # LRU still bounds it
    assert cache.get("a") is None and len(cache) == 2
