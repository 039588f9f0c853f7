"""A thread-safe LRU cache whose entries also expire after ``ttl_s`` (clock injectable for tests)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class TTLCache(Generic[V]):
    """At most ``maxsize`` entries (least recently used evicted first), each valid for ``ttl_s`` after its ``put``.

    ``maxsize == 0`` disables the cache (``get`` always misses, ``put`` keeps nothing).
    """

    def __init__(self, maxsize: int, ttl_s: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        if maxsize < 0:
            raise ValueError("maxsize must be >= 0")
        if not ttl_s > 0:
            raise ValueError("ttl_s must be > 0")
        self.maxsize = maxsize
        self.ttl_s = ttl_s
        self._clock = clock
        self._data: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            entry = self._data.get(key)
            if entry is not None:
                expires, value = entry
                if self._clock() < expires:
                    self._data.move_to_end(key)
                    self.hits += 1
                    return value
                del self._data[key]
            self.misses += 1
            return None

    def put(self, key: Hashable, value: V) -> None:
        if self.maxsize == 0:
            return
        with self._lock:
            self._data[key] = (self._clock() + self.ttl_s, value)
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)
