"""The one retry layer: transient backend faults are retried with capped exponential backoff and jitter.

Adapters only classify errors (``BackendError.retriable``); this module decides how long to wait and for how many
attempts. A policy's backoff waits on its ``stop`` event, given at construction: a consumer loop that is asked to stop
(``IngestWorker.stop``) sets it, so a batch stuck in backoff gives up at once (``RetryStopped``) and stays uncommitted.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, stop_never, wait_random_exponential

from catalog_search.core.errors import BackendError

T = TypeVar("T")
log = logging.getLogger(__name__)


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, BackendError) and exc.retriable


class RetryStopped(Exception):
    """Raised out of a backoff once the policy's ``stop`` event is set; the batch being retried is not applied."""


class RetryPolicy:
    def __init__(self, *, initial_s: float, max_s: float, max_attempts: int | None = None,
                 stop: threading.Event | None = None, sleep: Callable[[float], None] | None = None,
                 on_retry: Callable[[BaseException, float], None] | None = None) -> None:
        """``stop`` ends backoffs early (default: a private event, never set); ``sleep`` replaces the real wait in
        unit tests (the stop event is still checked after it)."""
        self.initial_s = initial_s
        self.max_s = max_s
        self.max_attempts = max_attempts
        self.stop = stop if stop is not None else threading.Event()
        self._sleep = sleep
        self.on_retry = on_retry

    def backoff(self, seconds: float) -> None:
        """Wait ``seconds`` unless stopped first; raise ``RetryStopped`` when stopped."""
        if self._sleep is not None:
            self._sleep(seconds)
        else:
            self.stop.wait(seconds)
        if self.stop.is_set():
            raise RetryStopped()

    def call(self, what: str, fn: Callable[[], T]) -> T:
        """Run ``fn``; on a transient fault wait and run it again (forever unless ``max_attempts``)."""

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            wait = state.next_action.sleep if state.next_action else 0.0
            log.warning("%s failed (attempt %d), retrying in %.1fs: %s", what, state.attempt_number, wait, exc)
            if self.on_retry and exc is not None:
                self.on_retry(exc, wait)

        retrying = Retrying(
            retry=retry_if_exception(is_transient),
            wait=wait_random_exponential(multiplier=self.initial_s, max=self.max_s),
            stop=stop_after_attempt(self.max_attempts) if self.max_attempts else stop_never,
            sleep=self.backoff,
            before_sleep=before_sleep,
            reraise=True,
        )
        return retrying(fn)
