"""The one retry layer: transient backend faults are retried with capped exponential backoff and jitter.

Adapters only classify errors (``BackendError.retriable``); this module decides how long to wait and for how many
attempts. The worker passes a ``sleep`` that keeps its consumer-group membership alive while it waits.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, stop_never, wait_random_exponential

from catalog_search.core.errors import BackendError

T = TypeVar("T")
log = logging.getLogger(__name__)


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, BackendError) and exc.retriable


class RetryPolicy:
    def __init__(self, *, initial_s: float, max_s: float, max_attempts: int | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 on_retry: Callable[[BaseException, float], None] | None = None) -> None:
        self.initial_s = initial_s
        self.max_s = max_s
        self.max_attempts = max_attempts
        self.sleep = sleep
        self.on_retry = on_retry

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
            sleep=self.sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        return retrying(fn)
