"""The vector caches (query vectors in ``retrieve.searcher``, document vectors in ``ingest.pipeline``): a lock and
get/put around ``cachetools.TTLCache``, which does the LRU order and the expiry.

The wrapper stays because the callers want ``get -> None`` on a miss, ``maxsize == 0`` as "off" (cachetools refuses
every item then), one lock for threads (cachetools is not thread-safe), and hit/miss counts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

import cachetools

V = TypeVar("V")


class TTLCache(Generic[V]):
    """At most ``maxsize`` entries (least recently used evicted first), each valid for ``ttl_s`` after its ``put``
    (``math.inf``: until evicted). ``maxsize == 0`` disables the cache: ``get`` always misses, ``put`` keeps nothing.
    """

    def __init__(self, maxsize: int, ttl_s: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        if maxsize < 0:
            raise ValueError("maxsize must be >= 0")
        if not ttl_s > 0:
            raise ValueError("ttl_s must be > 0")
        self.maxsize = maxsize
        self.ttl_s = ttl_s
        self._data: cachetools.TTLCache[Hashable, V] | None = (
            cachetools.TTLCache(maxsize, ttl_s, timer=clock) if maxsize else None)
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            value = None if self._data is None else self._data.get(key)
            if value is None:
                self.misses += 1
            else:
                self.hits += 1
            return value

    def put(self, key: Hashable, value: V) -> None:
        if self._data is None:
            return
        with self._lock:
            self._data[key] = value

    def clear(self) -> None:
        if self._data is not None:
            with self._lock:
                self._data.clear()

    def __len__(self) -> int:
        if self._data is None:
            return 0
        with self._lock:
            self._data.expire()
            return len(self._data)
