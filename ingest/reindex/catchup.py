"""Keep the new collection current: Kafka events since the live group's committed offsets, applied by a follower.

``capture_offsets`` reads where the live ingest group stands *before* the snapshot of the live collection is read:
everything before those offsets is durable in the live collection, so in the snapshot. ``Follower`` then consumes
the topic from those offsets on a thread (manual partition assignment: no group join, no rebalance), applies the
events to the new collection through the real ``BatchProcessor`` (new embedder) and commits to its own group after
every durable batch, so ingest workers started later on that group continue exactly where it stopped. Replaying
events the snapshot already holds is harmless: ingest folds events in version order and skips stale ones.

``wait_caught_up`` returns once the follower confirmed, after the call, that it reached the end of every partition
and saw no new event for ``idle_s`` (the idle window also covers brokers whose end offsets lag, like Tansu's).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from catalog_search.core.errors import BrokerError
from catalog_search.core.settings import Settings
from catalog_search.ingest.batcher import Batcher
from catalog_search.adapters.kafka import broker_error, ensure_topics, make_consumer, to_source_record
from catalog_search.ingest.processor import BatchProcessor, Counters
from catalog_search.core.records import SourceRecord
from catalog_search.ingest.reindex.plan import lag, start_offsets

log = logging.getLogger(__name__)
POLL_S = 0.5
METADATA_WAIT_S = 10.0


class FollowerStopped(Exception):
    """Raised out of a retry backoff when the follower is stopped; the open batch stays uncommitted."""


def capture_offsets(settings: Settings, *, replay_from: str = "committed") -> dict[int, int]:
    """Partition -> offset where catch-up starts: the live group's committed offset, else the partition start."""
    topic = settings.kafka.topic
    ensure_topics(settings, [topic])
    consumer = make_consumer(settings, client_id="catalog-reindex")      # the live group; never subscribes
    try:
        partitions = _partitions(consumer, topic)
        committed = {tp.partition: consumer.committed(tp) for tp in partitions}
        beginning = {tp.partition: offset for tp, offset in consumer.beginning_offsets(partitions).items()}
    except KafkaError as exc:
        raise broker_error(f"read the offsets of group {settings.kafka.group}", exc) from exc
    finally:
        consumer.close(autocommit=False)
    return start_offsets(committed, beginning, replay_from=replay_from)


def _partitions(consumer: KafkaConsumer, topic: str) -> list[TopicPartition]:
    deadline = time.monotonic() + METADATA_WAIT_S
    while True:
        partitions = consumer.partitions_for_topic(topic)
        if partitions:
            return [TopicPartition(topic, p) for p in sorted(partitions)]
        if time.monotonic() > deadline:
            raise BrokerError(f"topic {topic!r} has no partitions (metadata)", retriable=True)
        time.sleep(0.2)


class Follower:
    def __init__(self, settings: Settings, group: str, offsets: dict[int, int], processor: BatchProcessor,
                 batcher: Batcher, *, idle_s: float = 2.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.topic = settings.kafka.topic
        self.group = group
        self.offsets = dict(offsets)
        self.processor = processor
        self.batcher = batcher
        self.idle_s = idle_s
        self.clock = clock
        self.counters = Counters()
        self.error: BaseException | None = None
        self.lag = -1
        self._consumer = make_consumer(settings, group_id=group, client_id="catalog-reindex-follower")
        self._stop = threading.Event()
        self._confirmed = threading.Condition()
        self._generation = 0            # bumped every time the follower confirms it is caught up
        self._thread = threading.Thread(target=self._run, name="reindex-follower", daemon=True)
        processor.retry.sleep = self._backoff

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
        self._stop.set()
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
        c = self._consumer
        try:
            partitions = _partitions(c, self.topic)
            c.assign(partitions)
            for tp in partitions:
                c.seek(tp, self.offsets.get(tp.partition, 0))
            self._commit({tp: self.offsets.get(tp.partition, 0) for tp in partitions})   # the group starts here
            last_record_at = self.clock()
            while not self._stop.is_set():
                records = self._poll(min(POLL_S, max(0.01, self.batcher.time_left(self.clock()))))
                now = self.clock()
                if records:
                    last_record_at = now
                for record in records:
                    for batch in self.batcher.offer(record, now):
                        self._apply(batch)
                if self.batcher.due(self.clock()):
                    self._apply(self.batcher.drain())
                if not records and not len(self.batcher) and self.clock() - last_record_at >= self.idle_s:
                    self._confirm_if_at_end(partitions)
            self._apply(self.batcher.drain())
        except FollowerStopped:
            log.warning("catch-up stopped while retrying a transient fault; its open batch is re-read on the next run")
        except BaseException as exc:  # noqa: BLE001 - reported to the caller's thread
            self.error = exc
        finally:
            with self._confirmed:
                self._confirmed.notify_all()
            try:
                c.close(autocommit=False)
            except Exception as exc:  # noqa: BLE001
                log.debug("closing the catch-up consumer: %s", exc)

    def _poll(self, timeout_s: float) -> list[SourceRecord]:
        try:
            polled = self._consumer.poll(timeout_ms=int(timeout_s * 1000), max_records=max(1, self.batcher.room))
        except KafkaError as exc:
            log.warning("catch-up poll failed: %s", broker_error("poll", exc))
            time.sleep(timeout_s)
            return []
        return [to_source_record(m) for messages in polled.values() for m in messages]

    def _apply(self, batch: list[SourceRecord]) -> None:
        if not batch:
            return
        self.counters.add(self.processor.process(batch))
        offsets: dict[TopicPartition, int] = {}
        for record in batch:
            offsets[TopicPartition(record.topic, record.partition)] = record.offset + 1
        self._commit(offsets)

    def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        try:
            self._consumer.commit({tp: OffsetAndMetadata(o, "", -1) for tp, o in offsets.items()})
        except KafkaError as exc:
            log.warning("catch-up commit failed (the events are re-applied if read again, idempotently): %s", exc)

    def _confirm_if_at_end(self, partitions: list[TopicPartition]) -> None:
        try:
            ends = self._consumer.end_offsets(partitions)
            positions = {tp.partition: self._consumer.position(tp) for tp in partitions}
        except KafkaError as exc:
            log.debug("end offsets: %s", exc)
            return
        self.lag = lag(positions, {tp.partition: end for tp, end in ends.items()})
        if self.lag == 0:
            with self._confirmed:
                self._generation += 1
                self._confirmed.notify_all()

    def _backoff(self, seconds: float) -> None:
        if self._stop.wait(seconds):
            raise FollowerStopped()
