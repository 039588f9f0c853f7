"""The ``EventLog`` Protocol: the consumer side of the catalog topic, as the ingest loop needs it.

Kafka (kafka-python) sits behind it in ``adapters/kafka.py``; the ingest worker and the reindex catch-up only see
this. A partition is ``(topic, partition)``; offsets are the *next* offset to read or commit. Every method raises
``BrokerError`` (``retriable`` set) for broker faults; none retries.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from catalog_search.core.records import SourceRecord

Partition = tuple[str, int]
Rebalance = Callable[[set[Partition]], None]


class EventLog(Protocol):
    def join(self, topic: str, *, on_assigned: Rebalance, on_revoked: Rebalance) -> None:
        """Subscribe to ``topic`` in the consumer group; the callbacks run inside ``poll`` on rebalances."""
        ...

    def assign_from(self, topic: str, offsets: Mapping[int, int]) -> set[Partition]:
        """Take every partition of ``topic`` by hand (no group join), positioned at ``offsets`` (0 where missing)."""
        ...

    def poll(self, timeout_s: float, *, max_records: int) -> list[SourceRecord]: ...

    def assignment(self) -> set[Partition]: ...

    def pause(self) -> None:
        """Stop fetching from every assigned partition (polling keeps the group membership alive)."""
        ...

    def resume(self) -> None: ...

    def commit(self, offsets: Mapping[Partition, int]) -> None:
        """Commit next-to-read offsets; a commit refused after a rebalance is a non-retriable ``BrokerError``."""
        ...

    def lag(self) -> dict[Partition, int]:
        """Records between the position and the end of every assigned partition."""
        ...

    def close(self) -> None: ...
