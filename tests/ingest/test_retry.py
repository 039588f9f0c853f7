"""The retry layer's stop event: set by a consumer loop that is asked to stop, it ends a backoff at once."""

from __future__ import annotations

import threading
import time

import pytest

from catalog_search.core.errors import StoreError
from catalog_search.ingest.retry import RetryPolicy, RetryStopped


def failing(calls: list[int]):
    def fn() -> None:
        calls.append(1)
        raise StoreError("down", retriable=True)
    return fn


def test_a_stop_during_backoff_gives_up_without_waiting_the_backoff_out():
    stop = threading.Event()
    policy = RetryPolicy(initial_s=30.0, max_s=30.0, stop=stop)
    calls: list[int] = []
    threading.Timer(0.2, stop.set).start()
    started = time.monotonic()
    with pytest.raises(RetryStopped):
        policy.call("apply", failing(calls))
    assert time.monotonic() - started < 5 and len(calls) == 1


def test_without_a_stop_transient_faults_are_retried_until_they_pass():
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise StoreError("down", retriable=True)
        return "ok"

    assert RetryPolicy(initial_s=0.001, max_s=0.001).call("apply", flaky) == "ok" and len(calls) == 3
