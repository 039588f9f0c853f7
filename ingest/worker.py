"""The ingest worker: poll the ``EventLog`` (Kafka) → micro-batch → apply → commit, at least once.

Offsets are committed only after a batch's rows and dead letters are durable. A batch is applied on a helper thread
while the consumer thread pauses its partitions and keeps polling, so a slow model or a retried fault (backoff runs on
the helper thread) never makes the group evict the worker; records of partitions assigned meanwhile are queued.
On partition revocation it commits what it has applied; once the new assignment is known it forgets unapplied records
of the partitions it lost (their new owner re-reads them) and keeps those of partitions it got back. On SIGTERM/SIGINT
it finishes the open batch, commits and leaves the group.

This is the one consume loop: the reindex catch-up follower runs it too, with ``start_offsets`` (manual assignment
from given offsets, no group join) and an ``on_idle`` hook instead of a group subscription.
"""

from __future__ import annotations

import logging
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from catalog_search.ingest.batcher import Batcher
from catalog_search.core.errors import BrokerError
from catalog_search.core.event_log import EventLog, Partition
from catalog_search.ingest.processor import BatchProcessor, Counters
from catalog_search.core.records import SourceRecord
from catalog_search.ingest.retry import RetryStopped

log = logging.getLogger(__name__)
LAG_REFRESH_S = 5.0
BUSY_POLL_S = 0.5            # how often the consumer thread polls (paused) while a batch is being applied
PREFETCH_POLL_S = 0.02       # poll wait while reading the next batch ahead of the one being applied
JOIN_GRACE_S = 30.0          # --until-idle waits this much longer while the group has not assigned us anything


class IngestWorker:
    """Stopping sets the processor's retry ``stop`` event (given to its ``RetryPolicy`` at construction), so a batch
    in backoff gives up at once; ``on_idle`` (consumer thread) runs every loop turn once no event came for
    ``idle_s`` and nothing is buffered."""

    def __init__(self, events: EventLog, topic: str, processor: BatchProcessor, batcher: Batcher, *,
                 clock: Callable[[], float] = time.monotonic, on_idle: Callable[[], None] | None = None,
                 idle_s: float = 2.0) -> None:
        self.events = events
        self.topic = topic
        self.processor = processor
        self.batcher = batcher
        self.clock = clock
        self.on_idle = on_idle
        self.idle_s = idle_s
        self.counters = Counters()
        self._uncommitted: dict[Partition, int] = {}     # next offset to commit, per partition
        self._queue: list[list[SourceRecord]] = []            # closed batches, oldest first
        self._revoked: set[Partition] = set()                 # revoked, not yet known to be assigned again
        self._stopping = False
        self._assigned_once = False
        self._last_event_at = clock()
        self._lag_checked_at = 0.0
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-apply")

    # --- lifecycle -------------------------------------------------------------------------------------------
    def stop(self, *_: Any) -> None:
        """Finish the open batch, commit and return from ``run`` (safe to call from a signal handler)."""
        self._stopping = True
        self.processor.retry.stop.set()

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)

    def run(self, *, until_idle_s: float | None = None, start_offsets: Mapping[int, int] | None = None) -> Counters:
        """Consume until stopped (or, with ``until_idle_s``, until no event arrived for that long).

        Without ``start_offsets`` the worker joins its group; with them it takes every partition of the topic by hand
        from those offsets (0 where missing) and commits them first, so the group starts exactly there.
        """
        try:
            self._start(start_offsets)
            while not self._stopping:
                # an open batch: wait at most until it is due; none: up to 1 s (a poll returns when records come)
                timeout_s = min(self.batcher.time_left(self.clock()), 1.0) if len(self.batcher) else 1.0
                polled = self._poll(timeout_s, max_records=max(1, self.batcher.room))
                if polled:
                    self._last_event_at = self.clock()
                self._queue.extend(self._offer(polled))
                if self.batcher.due(self.clock()):
                    self._queue.append(self.batcher.drain())
                self._apply_queue()
                if self._uncommitted and not polled:
                    self._commit()                 # an earlier commit failed (e.g. refused during a rebalance)
                self._refresh_lag()
                if self.on_idle is not None and self._idle_for(self.idle_s):
                    self.on_idle()
                if until_idle_s is not None and self._idle_for(until_idle_s):
                    break
            self._queue.append(self.batcher.drain())
            self._apply_queue()
        except RetryStopped:
            log.warning("stopped while retrying a transient fault: the open batch is not committed and will be "
                        "re-applied on restart")
        finally:
            self._executor.shutdown(wait=True)
            self.events.close()
        return self.counters

    def _start(self, start_offsets: Mapping[int, int] | None) -> None:
        if start_offsets is None:
            self.events.join(self.topic, on_assigned=self.on_partitions_assigned,
                             on_revoked=self.on_partitions_revoked)
        else:
            for tp in self.events.assign_from(self.topic, start_offsets):
                self._uncommitted[tp] = start_offsets.get(tp[1], 0)
            self._commit()
            self._assigned_once = True            # no group join to wait for
        self._last_event_at = self.clock()

    def _idle_for(self, seconds: float) -> bool:
        """No event for ``seconds`` since the last event or (re)assignment; joining the group does not count."""
        if len(self.batcher) or self._queue:
            return False
        grace = 0.0 if self._assigned_once else JOIN_GRACE_S
        return self.clock() - self._last_event_at >= seconds + grace

    # --- polling and batches ---------------------------------------------------------------------------------
    def _poll(self, timeout_s: float, *, max_records: int) -> list[SourceRecord]:
        try:
            return self.events.poll(timeout_s, max_records=max_records)
        except BrokerError as exc:
            log.warning("poll failed: %s", exc)
            time.sleep(min(timeout_s, 1.0))
            return []

    def _offer(self, records: Iterable[SourceRecord]) -> list[list[SourceRecord]]:
        now = self.clock()
        return [batch for record in records for batch in self.batcher.offer(record, now)]

    def _apply_queue(self) -> None:
        while self._queue:
            batch = self._queue.pop(0)
            if not batch:
                continue
            started = time.perf_counter()
            counts = self._process_keeping_membership(batch)
            self.counters.add(counts)
            log.debug("applied %d events in %.2fs: %s", len(batch), time.perf_counter() - started, counts)
            for record in batch:
                self._uncommitted[(record.topic, record.partition)] = record.offset + 1
            self._commit()
            self._last_event_at = self.clock()      # idle time counts from the end of the last work

    def _commit(self) -> None:
        try:
            owned = self.events.assignment()
        except BrokerError as exc:
            log.warning("assignment unknown, nothing committed (records will be re-applied): %s", exc)
            return
        offsets = {tp: offset for tp, offset in self._uncommitted.items() if tp in owned}
        self._uncommitted.clear()     # offsets of lost partitions are not ours to commit; the new owner re-reads
        try:
            self.events.commit(offsets)
        except BrokerError as exc:
            # Kept for the next try (after the next batch, or on an idle loop turn): a partition this worker keeps
            # through a rebalance is not re-read, so an offset forgotten here would stay uncommitted.
            self._keep_uncommitted(offsets)
            log.warning("commit failed (retried; records applied meanwhile are re-applied on restart): %s", exc)

    def _keep_uncommitted(self, offsets: Mapping[Partition, int]) -> None:
        for tp, offset in offsets.items():
            self._uncommitted.setdefault(tp, offset)      # a newer offset recorded meanwhile wins

    def _process_keeping_membership(self, batch: list[SourceRecord]) -> Counters:
        """Apply a batch on the helper thread; meanwhile keep polling so the group keeps us: first reading up to one
        batch ahead (ready the moment this one is committed), then paused (nothing more is buffered)."""
        future = self._executor.submit(self.processor.process, batch)
        paused = False
        try:
            while True:
                ahead = self._buffered() < self.batcher.max_events
                if ahead == paused:
                    (self.events.resume if ahead else self.events.pause)()
                    paused = not ahead
                # Paused partitions return nothing; records of partitions assigned meanwhile are queued, in order.
                polled = self._poll(PREFETCH_POLL_S if ahead else 0.0, max_records=max(1, self.batcher.room))
                if polled:
                    self._last_event_at = self.clock()
                self._queue.extend(self._offer(polled))
                try:
                    return future.result(timeout=0 if ahead else BUSY_POLL_S)
                except FutureTimeout:
                    pass
        finally:
            if paused:
                self.events.resume()

    def _buffered(self) -> int:
        return len(self.batcher) + sum(len(b) for b in self._queue)

    # --- rebalance listener ----------------------------------------------------------------------------------
    def on_partitions_revoked(self, revoked: set[Partition]) -> None:
        """Commit what is applied; the buffered records are dropped only once the new assignment shows which
        partitions really left (kafka-python keeps the position of a partition assigned again, so records dropped
        for it would never be fetched again: a gap that later commits would skip for good)."""
        self._commit_partitions(revoked)
        self._revoked |= set(revoked)

    def on_partitions_assigned(self, assigned: set[Partition]) -> None:
        lost, self._revoked = self._revoked - set(assigned), set()
        self._drop_partitions(lost)
        self._assigned_once = True
        self._last_event_at = self.clock()
        self._lag_checked_at = 0.0                # report the new partitions' lag on this loop turn
        log.info("partitions assigned: %s", sorted(assigned))

    def _drop_partitions(self, lost: set[Partition]) -> None:
        """Forget unapplied records of partitions this worker no longer owns (their new owner re-reads them)."""
        if not lost:
            return
        dropped = self.batcher.discard_partitions(lost)
        queued = sum(len(batch) for batch in self._queue)
        self._queue = [[r for r in batch if (r.topic, r.partition) not in lost] for batch in self._queue]
        dropped += queued - sum(len(batch) for batch in self._queue)
        if dropped:
            log.info("partitions revoked: dropped %d unapplied records (the new owner re-reads them)", dropped)

    def _commit_partitions(self, partitions: set[Partition]) -> None:
        offsets = {tp: o for tp, o in self._uncommitted.items() if tp in partitions}
        for tp in offsets:
            del self._uncommitted[tp]
        try:
            self.events.commit(offsets)
        except BrokerError as exc:
            self._keep_uncommitted(offsets)       # committed later if the partition comes back, else dropped
            log.warning("commit on revocation failed (records will be re-applied): %s", exc)

    # --- metrics ---------------------------------------------------------------------------------------------
    def _refresh_lag(self) -> None:
        now = self.clock()
        if now - self._lag_checked_at < LAG_REFRESH_S:
            return
        self._lag_checked_at = now
        try:
            for (topic, partition), lag in self.events.lag().items():
                self.processor.metrics.lag.labels(topic, str(partition)).set(lag)
        except BrokerError as exc:
            log.debug("lag refresh failed: %s", exc)
