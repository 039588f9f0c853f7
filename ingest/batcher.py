"""Micro-batching bounded by event count, bytes and wait time (pure: the caller passes the clock)."""

from __future__ import annotations

from collections.abc import Collection

from catalog_search.core.records import SourceRecord


class Batcher:
    """Collects records until the batch is full (count or bytes) or its first record has waited ``max_wait_s``
    (0: due as soon as it holds a record; the worker closes it when it is free to apply it).

    ``offer`` never lets a batch grow past ``max_bytes`` unless a single record is larger than that on its own
    (it then forms a batch by itself).
    """

    def __init__(self, *, max_events: int, max_bytes: int, max_wait_s: float) -> None:
        if max_events < 1 or max_bytes < 1 or max_wait_s < 0:
            raise ValueError("batch limits must be positive (max_wait_s >= 0)")
        self.max_events = max_events
        self.max_bytes = max_bytes
        self.max_wait_s = max_wait_s
        self._records: list[SourceRecord] = []
        self._bytes = 0
        self._opened_at: float | None = None

    def __len__(self) -> int:
        return len(self._records)

    @property
    def room(self) -> int:
        """How many more events fit by count (used to bound a poll)."""
        return self.max_events - len(self._records)

    def offer(self, record: SourceRecord, now: float) -> list[list[SourceRecord]]:
        """Add a record; returns the batches it closed (none, usually), oldest first."""
        closed = []
        if self._records and self._bytes + record.size > self.max_bytes:
            closed.append(self.drain())
        if not self._records:
            self._opened_at = now
        self._records.append(record)
        self._bytes += record.size
        if len(self._records) >= self.max_events or self._bytes >= self.max_bytes:
            closed.append(self.drain())
        return closed

    def due(self, now: float) -> bool:
        return bool(self._records) and self.time_left(now) <= 0

    def time_left(self, now: float) -> float:
        """Seconds until the open batch is due; ``max_wait_s`` when nothing is open."""
        if self._opened_at is None:
            return self.max_wait_s
        return max(0.0, self._opened_at + self.max_wait_s - now)

    def drain(self) -> list[SourceRecord]:
        records, self._records, self._bytes, self._opened_at = self._records, [], 0, None
        return records

    def discard_partitions(self, partitions: Collection[tuple[str, int]]) -> int:
        """Forget pending records of partitions this consumer lost (their new owner re-reads them)."""
        kept = [r for r in self._records if (r.topic, r.partition) not in partitions]
        dropped = len(self._records) - len(kept)
        if dropped:
            opened_at = self._opened_at
            self.drain()
            for record in kept:
                self._records.append(record)
                self._bytes += record.size
            self._opened_at = opened_at if kept else None
        return dropped
