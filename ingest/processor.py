"""One micro-batch end to end: validate records, apply the valid events, dead-letter the rest, count outcomes.

Shared by the Kafka worker and the file backfill, so both take exactly the same path.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any, Protocol

from catalog_search.core.events import Event, InvalidEvent, parse_event
from catalog_search.core.dead_letters import DeadLetter
from catalog_search.ingest.metrics import IngestMetrics
from catalog_search.ingest.pipeline import Pipeline
from catalog_search.ingest.plan import Outcome
from catalog_search.core.records import SourceRecord
from catalog_search.ingest.retry import RetryPolicy


class DeadLetterSink(Protocol):
    def publish(self, letters: Sequence[DeadLetter]) -> None:
        """Durably store the letters before returning (the caller commits offsets right after)."""
        ...


@dataclass
class Counters:
    events: int = 0
    embedded_texts: int = 0
    upserted: int = 0
    patched: int = 0
    deleted: int = 0
    stale: int = 0
    dead_lettered: int = 0
    batches: int = 0

    def add(self, other: "Counters") -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class BatchProcessor:
    """Owns its pipeline's embedder (the wiring builds one per processor): ``close()`` or ``with`` releases it."""

    def __init__(self, pipeline: Pipeline, dead_letters: DeadLetterSink, retry: RetryPolicy, *,
                 max_event_bytes: int, metrics: IngestMetrics | None = None,
                 clock: Callable[[], float] = time.time, owned: Sequence[Any] = ()) -> None:
        self.pipeline = pipeline
        self.owned = tuple(owned)            # what the wiring opened for this processor alone (its store): closed too
        self.dead_letters = dead_letters
        self.retry = retry
        self.max_event_bytes = max_event_bytes
        self.metrics = metrics or IngestMetrics()
        self.clock = clock

    def close(self) -> None:
        """Release the pipeline's writer thread and the embedder (a loaded model or an HTTP client); the store stays
        with whoever passed it in (``owned`` ones excepted: the wiring opened them for this processor)."""
        self.pipeline.close()
        self.pipeline.embedder.close()
        for resource in self.owned:
            resource.close()

    def __enter__(self) -> "BatchProcessor":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def process(self, records: Sequence[SourceRecord]) -> Counters:
        """Returns the batch's counters once its rows and dead letters are durable (raises otherwise)."""
        started = time.perf_counter()
        valid: list[tuple[SourceRecord, Event]] = []
        letters: list[DeadLetter] = []
        for record in records:
            try:
                valid.append((record, parse_event(record.value, max_bytes=self.max_event_bytes)))
            except InvalidEvent as exc:
                letters.append(DeadLetter(record, f"invalid event: {exc.reason}"))

        result = self.retry.call("apply batch", lambda: self.pipeline.process([event for _, event in valid]))
        counts = Counters(events=len(records), embedded_texts=result.embedded_texts, batches=1)
        applied: list[SourceRecord] = []
        for (record, _), outcome in zip(valid, result.results):
            if outcome.outcome is Outcome.DEAD:
                letters.append(DeadLetter(record, outcome.reason))
            else:
                setattr(counts, outcome.outcome.value, getattr(counts, outcome.outcome.value) + 1)
                applied.append(record)
        self.retry.call("publish dead letters", lambda: self.dead_letters.publish(letters))
        counts.dead_lettered = len(letters)
        self._observe(counts, applied, time.perf_counter() - started, result.embed_seconds)
        return counts

    def _observe(self, counts: Counters, applied: Sequence[SourceRecord], seconds: float, embed_s: float) -> None:
        m = self.metrics
        for outcome in Outcome:
            value = getattr(counts, outcome.value)
            if value:
                m.events.labels(outcome.value).inc(value)
        m.batch_size.observe(counts.events)
        m.batch_seconds.observe(seconds)
        if counts.embedded_texts:
            m.embed_texts.inc(counts.embedded_texts)
            m.embed_seconds.observe(embed_s)
        now_ms = self.clock() * 1000
        for record in applied:
            if record.timestamp_ms is not None:
                m.freshness.observe(max(0.0, (now_ms - record.timestamp_ms) / 1000))
