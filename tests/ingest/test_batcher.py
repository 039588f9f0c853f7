"""Micro-batch bounds: count, bytes, wait; partition discard on revocation (pure)."""

import pytest

from catalog_search.ingest.batcher import Batcher
from catalog_search.core.records import SourceRecord


def rec(offset, size=10, partition=0):
    return SourceRecord("t", partition, offset, None, b"x" * size)


def test_closes_on_event_count():
    b = Batcher(max_events=3, max_bytes=10_000, max_wait_s=1)
    assert b.offer(rec(0), 0) == [] and b.offer(rec(1), 0) == []
    closed = b.offer(rec(2), 0)
    assert [[r.offset for r in batch] for batch in closed] == [[0, 1, 2]]
    assert len(b) == 0


def test_never_exceeds_bytes_unless_single_record_is_larger():
    b = Batcher(max_events=100, max_bytes=25, max_wait_s=1)
    assert b.offer(rec(0), 0) == [] and b.offer(rec(1), 0) == []
    closed = b.offer(rec(2), 0)                 # 30 > 25: the open batch closes first
    assert [[r.offset for r in batch] for batch in closed] == [[0, 1]]
    assert [[r.offset for r in batch] for batch in b.offer(rec(3, size=100), 0)] == [[2], [3]]


def test_due_after_wait_from_first_record():
    b = Batcher(max_events=100, max_bytes=10_000, max_wait_s=0.5)
    assert not b.due(10.0) and b.time_left(10.0) == 0.5
    b.offer(rec(0), 10.0)
    b.offer(rec(1), 10.4)
    assert not b.due(10.3) and b.time_left(10.3) == pytest.approx(0.2)
    assert b.due(10.5)
    assert [r.offset for r in b.drain()] == [0, 1] and not b.due(11)


def test_room_bounds_the_next_poll():
    b = Batcher(max_events=5, max_bytes=10_000, max_wait_s=1)
    b.offer(rec(0), 0)
    assert b.room == 4


def test_discard_partitions_keeps_others_in_order():
    b = Batcher(max_events=100, max_bytes=10_000, max_wait_s=1)
    for i in range(6):
        b.offer(rec(i, partition=i % 2), 0)
    assert b.discard_partitions({("t", 1)}) == 3
    assert [r.offset for r in b.drain()] == [0, 2, 4]


def test_rejects_non_positive_limits():
    with pytest.raises(ValueError):
        Batcher(max_events=0, max_bytes=1, max_wait_s=1)
