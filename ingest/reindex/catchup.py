"""Keep the new collection current: Kafka events since the live group's committed offsets, applied by a follower.

The run reads where the live ingest group stands (``plan.start_offsets``) *before* the snapshot of the live
collection is read: everything before those offsets is durable in the live collection, so in the snapshot.
``Follower`` then consumes
the topic from those offsets on a thread: it *is* an ``IngestWorker`` (the one consume loop), started with manual
partition assignment from those offsets (no group join, no rebalance), applying the events to the new collection
through the real ``BatchProcessor`` (new embedder) and committing to its own group after every durable batch, so
ingest workers started later on that group continue exactly where it stopped. Replaying
events the snapshot already holds is harmless: ingest skips every event whose version is not above the stored one.

``wait_caught_up`` returns once the follower confirmed, after the call, that it reached the end of every partition
and saw no new event for ``idle_s`` (the idle window also covers brokers whose end offsets lag, like Tansu's).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from catalog_search.core.errors import BrokerError
from catalog_search.core.event_log import EventLog
from catalog_search.ingest.batcher import Batcher
from catalog_search.ingest.processor import BatchProcessor, Counters
from catalog_search.ingest.worker import IngestWorker

log = logging.getLogger(__name__)


class Follower:
    """An ``IngestWorker`` on its own group and thread that tells the caller when it has caught up."""

    def __init__(self, events: EventLog, topic: str, offsets: dict[int, int], processor: BatchProcessor,
                 batcher: Batcher, *, idle_s: float = 2.0, clock: Callable[[], float] = time.monotonic) -> None:
        """``events``: the topic in the follower's own consumer group (the app shell opens it)."""
        self.topic = topic
        self.offsets = dict(offsets)
        self.error: BaseException | None = None
        self.lag = -1
        self._events = events
        self._worker = IngestWorker(events, self.topic, processor, batcher, clock=clock,
                                    on_idle=self._confirm_if_at_end, idle_s=idle_s)
        self._confirmed = threading.Condition()
        self._generation = 0            # bumped every time the follower confirms it is caught up
        self._thread = threading.Thread(target=self._run, name="reindex-follower", daemon=True)

    @property
    def counters(self) -> Counters:
        return self._worker.counters

    # -- control (caller's thread) --------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def wait_caught_up(self, timeout_s: float) -> None:
        """Block until the follower confirms, after this call, that it is caught up; raise if it failed or timed out."""
        deadline = time.monotonic() + timeout_s
        with self._confirmed:
            target = self._generation + 1
            while self._generation < target and self.error is None and self._thread.is_alive():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise BrokerError(f"catch-up did not reach the end of {self.topic!r} within {timeout_s:g}s "
                                      f"(lag {self.lag}); nothing was swapped", retriable=True)
                self._confirmed.wait(min(left, 1.0))
        self._raise_error()
        if self._generation < target:
            raise BrokerError("the catch-up consumer stopped before it caught up", retriable=False)

    def stop(self, timeout_s: float = 60.0) -> Counters:
        """Apply what was read, commit, close; re-raise the follower's failure, if any."""
        self._worker.stop()
        if self._thread.is_alive():
            self._thread.join(timeout_s)
        self._raise_error()
        return self.counters

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _raise_error(self) -> None:
        if self.error is not None:
            raise self.error

    # -- the follower thread ----------------------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._worker.run(start_offsets=self.offsets)
        except BaseException as exc:  # noqa: BLE001 - reported to the caller's thread
            self.error = exc
        finally:
            with self._confirmed:
                self._confirmed.notify_all()

    def _confirm_if_at_end(self) -> None:
        """The worker's idle hook (follower thread, which owns the event log): at the end of every partition?"""
        try:
            self.lag = sum(self._events.lag().values())
        except BrokerError as exc:
            log.debug("end offsets: %s", exc)
            return
        if self.lag == 0:
            with self._confirmed:
                self._generation += 1
                self._confirmed.notify_all()
