"""What the ingest core consumes: one raw record from a source (a Kafka message or a JSON Lines line)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp_ms: int | None = None      # produce time (Kafka) — the start of the freshness clock

    @property
    def size(self) -> int:
        return len(self.value or b"") + len(self.key or b"")
