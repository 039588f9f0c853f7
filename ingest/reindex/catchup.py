"""Keep the new collection current: Kafka events since the live group's committed offsets, applied by a follower.

``capture_offsets`` reads where the live ingest group stands *before* the snapshot of the live collection is read:
everything before those offsets is durable in the live collection, so in the snapshot. ``Follower`` then consumes
the topic from those offsets on a thread: it *is* an ``IngestWorker`` (the one consume loop), started with manual
partition assignment from those offsets (no group join, no rebalance), applying the events to the new collection
through the real ``BatchProcessor`` (new embedder) and committing to its own group after every durable batch, so
ingest workers started later on that group continue exactly where it stopped. Replaying
events the snapshot already holds is harmless: ingest folds events in version order and skips stale ones.

``wait_caught_up`` returns once the follower confirmed, after the call, that it reached the end of every partition
and saw no new event for ``idle_s`` (the idle window also covers brokers whose end offsets lag, like Tansu's).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from kafka.errors import KafkaError

from catalog_search.core.errors import BrokerError
from catalog_search.core.settings import Settings
from catalog_search.ingest.batcher import Batcher
from catalog_search.adapters.kafka import broker_error, ensure_topics, make_consumer, topic_partitions
from catalog_search.ingest.processor import BatchProcessor, Counters
from catalog_search.ingest.reindex.plan import lag, start_offsets
from catalog_search.ingest.worker import IngestWorker

log = logging.getLogger(__name__)


def capture_offsets(settings: Settings, *, replay_from: str = "committed") -> dict[int, int]:
    """Partition -> offset where catch-up starts: the live group's committed offset, else the partition start."""
    topic = settings.kafka.topic
    ensure_topics(settings, [topic])
    consumer = make_consumer(settings, client_id="catalog-reindex")      # the live group; never subscribes
    try:
        partitions = topic_partitions(consumer, topic)
        committed = {tp.partition: consumer.committed(tp) for tp in partitions}
        beginning = {tp.partition: offset for tp, offset in consumer.beginning_offsets(partitions).items()}
    except KafkaError as exc:
        raise broker_error(f"read the offsets of group {settings.kafka.group}", exc) from exc
    finally:
        consumer.close(autocommit=False)
    return start_offsets(committed, beginning, replay_from=replay_from)


class Follower:
    """An ``IngestWorker`` on its own group and thread that tells the caller when it has caught up."""

    def __init__(self, settings: Settings, group: str, offsets: dict[int, int], processor: BatchProcessor,
                 batcher: Batcher, *, idle_s: float = 2.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.topic = settings.kafka.topic
        self.group = group
        self.offsets = dict(offsets)
        self.error: BaseException | None = None
        self.lag = -1
        consumer = make_consumer(settings, group_id=group, client_id="catalog-reindex-follower")
        self._worker = IngestWorker(consumer, self.topic, processor, batcher, clock=clock,
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
        """The worker's idle hook (follower thread, which owns the consumer): at the end of every partition?"""
        consumer = self._worker.consumer
        partitions = list(consumer.assignment())
        try:
            ends = consumer.end_offsets(partitions)
            positions = {tp.partition: consumer.position(tp) for tp in partitions}
        except KafkaError as exc:
            log.debug("end offsets: %s", exc)
            return
        self.lag = lag(positions, {tp.partition: end for tp, end in ends.items()})
        if self.lag == 0:
            with self._confirmed:
                self._generation += 1
                self._confirmed.notify_all()
