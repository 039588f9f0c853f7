"""A small circuit breaker for the reranker: skip a backend that keeps failing, try it again later.

States:

* **closed** — calls go through; ``failures_to_open`` consecutive failures open the breaker.
* **open** — calls are refused until ``reset_after_s`` have passed since it opened.
* **half-open** — after that time exactly ONE trial call is allowed (``allow()`` returns True once); its success
  closes the breaker, its failure opens it again for another ``reset_after_s``.

Pure (time comes from ``clock``) and thread-safe (one lock around every transition).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Literal

State = Literal["closed", "open", "half-open"]


class CircuitBreaker:
    def __init__(self, failures_to_open: int, reset_after_s: float, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if failures_to_open < 1:
            raise ValueError("failures_to_open must be >= 1")
        if reset_after_s <= 0:
            raise ValueError("reset_after_s must be > 0")
        self._failures_to_open = failures_to_open
        self._reset_after_s = reset_after_s
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0              # consecutive failures
        self._opened_at: float | None = None
        self._trial_in_flight = False

    @property
    def consecutive_failures(self) -> int:
        with self._lock:
            return self._failures

    @property
    def state(self) -> State:
        with self._lock:
            return self._state()

    def _state(self) -> State:
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at >= self._reset_after_s:
            return "half-open"
        return "open"

    def allow(self) -> bool:
        """May a call go through now? In half-open state only the first caller gets True (the trial call)."""
        with self._lock:
            state = self._state()
            if state == "closed":
                return True
            if state == "half-open" and not self._trial_in_flight:
                self._trial_in_flight = True
                return True
            return False

    def record_success(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._trial_in_flight = False

    def record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            if self._opened_at is not None:
                # A failed trial (or a late failure of a call admitted before opening): open for a new period.
                self._opened_at = self._clock()
            elif self._failures >= self._failures_to_open:
                self._opened_at = self._clock()
            self._trial_in_flight = False
