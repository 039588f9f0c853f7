"""The worker across a rebalance that gives it back a partition it had buffered records of (pure: a scripted
EventLog that behaves like kafka-python 3, which keeps the position of a partition assigned again)."""

from __future__ import annotations

import threading
from types import SimpleNamespace

from catalog_search.core.errors import BrokerError
from catalog_search.core.records import SourceRecord
from catalog_search.ingest.batcher import Batcher
from catalog_search.ingest.processor import Counters
from catalog_search.ingest.worker import IngestWorker

P0, P1 = ("t", 0), ("t", 1)


class ScriptedLog:
    """Ten records per partition, four per poll; the second poll rebalances: both partitions revoked, then P0
    assigned again (its fetch position kept, as kafka-python 3 does) and P1 gone to another worker."""

    def __init__(self) -> None:
        self.position = {P0: 0, P1: 0}
        self.owned: set = set()
        self.commits: list[dict] = []
        self.polls = 0

    def join(self, topic, *, on_assigned, on_revoked):
        self.on_assigned, self.on_revoked = on_assigned, on_revoked

    def poll(self, timeout_s, *, max_records):
        self.polls += 1
        if self.polls == 1:
            self.owned = {P0, P1}
            self.on_assigned({P0, P1})
        elif self.polls == 2:
            self.on_revoked(set(self.owned))
            self.owned = {P0}
            self.on_assigned({P0})
        out = []
        for tp in sorted(self.owned):
            start = self.position[tp]
            end = min(10, start + 2)
            out += [SourceRecord(tp[0], tp[1], o, b"k", b"{}") for o in range(start, end)]
            self.position[tp] = end
        return out

    def assignment(self):
        return set(self.owned)

    def pause(self):
        pass

    def resume(self):
        pass

    def commit(self, offsets):
        if offsets:
            self.commits.append(dict(offsets))

    def lag(self):
        return {}

    def close(self):
        pass


class RecordingProcessor:
    def __init__(self) -> None:
        self.applied: list[tuple[int, int]] = []
        self.retry = SimpleNamespace(stop=threading.Event())
        self.metrics = SimpleNamespace(lag=SimpleNamespace(labels=lambda *a: SimpleNamespace(set=lambda v: None)))

    def process(self, batch):
        self.applied += [(r.partition, r.offset) for r in batch]
        return Counters(events=len(batch), batches=1)


def test_records_buffered_for_a_partition_assigned_again_are_applied_not_dropped():
    """Regression (issue 10, scale-out): the worker dropped every buffered record of a revoked partition; when the
    rebalance gave the partition straight back, kafka-python kept its position past them, so they were never read
    again and the next commit skipped them (three workers stalled with a partition's tail unapplied)."""
    log, processor = ScriptedLog(), RecordingProcessor()
    now = [0.0]

    def clock():
        now[0] += 0.01
        return now[0]

    worker = IngestWorker(log, "t", processor, Batcher(max_events=100, max_bytes=1 << 20, max_wait_s=1000.0),
                          clock=clock)
    worker.run(until_idle_s=0.5)
    p0 = sorted(o for p, o in processor.applied if p == 0)
    assert set(p0) == set(range(10)), p0
    assert all(p == 0 for p, _ in processor.applied)  # P1's buffered records were dropped: its new owner reads them
    last = {}
    for c in log.commits:
        last.update(c)
    assert last[P0] == 10 and P1 not in last          # the lost partition's records were not ours to commit


class RefusesLastCommitOnce(ScriptedLog):
    """Refuses the commit that covers P0's last record once (as Kafka does while a rebalance is in progress); no
    record comes after it, so only a retry can commit it."""

    def __init__(self) -> None:
        super().__init__()
        self.refused = 0

    def commit(self, offsets):
        if offsets.get(P0) == 10 and not self.refused:
            self.refused += 1
            raise BrokerError("kafka commit failed: RebalanceInProgressError", retriable=True)
        super().commit(offsets)


def test_a_refused_commit_is_retried_not_forgotten():
    """Regression (issue 10, scale-out): an offset whose commit was refused during a rebalance was forgotten; the
    worker kept the partition (and its position), so the group's offset stayed behind for good (a drained topic
    showed 31 events uncommitted)."""
    log, processor = RefusesLastCommitOnce(), RecordingProcessor()
    now = [0.0]

    def clock():
        now[0] += 0.01
        return now[0]

    worker = IngestWorker(log, "t", processor, Batcher(max_events=3, max_bytes=1 << 20, max_wait_s=1000.0),
                          clock=clock)
    worker.run(until_idle_s=0.5)
    assert log.refused == 1
    assert log.commits[-1] == {P0: 10}
