"""CircuitBreaker: closed -> open after N consecutive failures -> half-open (one trial) -> closed / open again."""

from __future__ import annotations

import threading

import pytest

from catalog_search.rerank.breaker import CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make(n: int = 3, reset: float = 10.0) -> tuple[CircuitBreaker, Clock]:
    clock = Clock()
    return CircuitBreaker(n, reset, clock=clock), clock


def test_opens_after_n_consecutive_failures_only() -> None:
    b, _ = make(3)
    for _ in range(2):
        assert b.allow()
        b.record_failure()
    assert b.state == "closed" and b.consecutive_failures == 2
    b.record_success()                      # a success resets the count
    assert b.consecutive_failures == 0
    for _ in range(3):
        assert b.allow()
        b.record_failure()
    assert b.state == "open"
    assert not b.allow()
    assert b.consecutive_failures == 3


def test_half_open_allows_exactly_one_trial_then_closes_on_success() -> None:
    b, clock = make(1, reset=10.0)
    b.record_failure()
    clock.now += 9.99
    assert b.state == "open" and not b.allow()
    clock.now += 0.01
    assert b.state == "half-open"
    assert b.allow()                        # the trial
    assert not b.allow()                    # nobody else while it runs
    b.record_success()
    assert b.state == "closed" and b.allow() and b.allow()


def test_failed_trial_reopens_for_a_full_period() -> None:
    b, clock = make(2, reset=5.0)
    b.record_failure()
    b.record_failure()
    clock.now += 5.0
    assert b.allow()
    b.record_failure()
    assert b.state == "open" and b.consecutive_failures == 3
    clock.now += 4.9
    assert not b.allow()
    clock.now += 0.1
    assert b.allow()


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError):
        CircuitBreaker(0, 1.0)
    with pytest.raises(ValueError):
        CircuitBreaker(1, 0.0)


def test_thread_safe_single_trial() -> None:
    b, clock = make(1, reset=1.0)
    b.record_failure()
    clock.now += 1.0
    allowed: list[bool] = []
    lock = threading.Lock()
    start = threading.Barrier(16)

    def worker() -> None:
        start.wait()
        ok = b.allow()
        with lock:
            allowed.append(ok)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert allowed.count(True) == 1


def test_concurrent_failures_are_all_counted() -> None:
    b, _ = make(1000, reset=1.0)

    def worker() -> None:
        for _ in range(100):
            b.record_failure()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert b.consecutive_failures == 800 and b.state == "closed"
