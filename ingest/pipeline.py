"""Apply a batch of valid events: read stored rows, plan, embed only changed texts, upsert whole rows."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from catalog.embedding import Embedder
from catalog.errors import EmbeddingError
from catalog.events import Event
from catalog.product import DEFAULT_EMBED_ATTRIBUTES, DESCRIPTION_EMBED_CHARS
from catalog.store import VectorStore
from ingest.plan import BatchPlan, EventResult, Outcome, plan_batch

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PipelineResult:
    results: list[EventResult]     # aligned with the input events
    embedded_texts: int            # texts sent to the model (unique texts of rows whose text changed)
    embed_seconds: float
    written: int                   # rows upserted


class Pipeline:
    """The batch-level core shared by the Kafka worker and the file backfill.

    Raises ``BackendError`` when the embedder or store fails as a whole (the caller retries, one layer); a text the
    model rejects for good (``retriable=False``) only dead-letters the events of that sku.
    """

    def __init__(self, embedder: Embedder, store: VectorStore, *,
                 embed_attributes: Iterable[str] = DEFAULT_EMBED_ATTRIBUTES,
                 description_chars: int = DESCRIPTION_EMBED_CHARS,
                 clock: Callable[[], float] = time.time) -> None:
        self.embedder = embedder
        self.store = store
        self.embed_attributes = tuple(embed_attributes)
        self.description_chars = description_chars
        self.clock = clock

    def process(self, events: Sequence[Event]) -> PipelineResult:
        if not events:
            return PipelineResult([], 0, 0.0, 0)
        stored = self.store.fetch(sorted({event.sku for event in events}))
        plan = plan_batch(events, stored, now_ms=int(self.clock() * 1000), embed_attributes=self.embed_attributes,
                          description_chars=self.description_chars)
        started = time.perf_counter()
        vectors, rejected = self._embed(plan.to_embed)
        embed_seconds = time.perf_counter() - started
        results = _dead_letter_rejected(plan, events, rejected)
        rows = [row.with_changes(vector=vectors[sku]) if sku in plan.to_embed else row
                for sku, row in plan.writes.items() if sku not in rejected]
        if rows:
            self.store.upsert(rows)
        return PipelineResult(results, len(set(plan.to_embed.values())), embed_seconds, len(rows))

    def _embed(self, texts_by_sku: dict[str, str]) -> tuple[dict[str, np.ndarray], dict[str, str]]:
        """Vectors by sku, embedding each distinct text once; plus skus whose text the model refuses for good."""
        if not texts_by_sku:
            return {}, {}
        unique = list(dict.fromkeys(texts_by_sku.values()))
        try:
            by_text = dict(zip(unique, self.embedder.embed_documents(unique)))
            rejected_texts: dict[str, str] = {}
        except EmbeddingError as exc:
            if exc.retriable:
                raise
            by_text, rejected_texts = self._embed_one_by_one(unique)
        vectors = {sku: by_text[text] for sku, text in texts_by_sku.items() if text in by_text}
        rejected = {sku: rejected_texts[text] for sku, text in texts_by_sku.items() if text in rejected_texts}
        return vectors, rejected

    def _embed_one_by_one(self, texts: list[str]) -> tuple[dict[str, np.ndarray], dict[str, str]]:
        """Isolate the texts the model refuses (e.g. too long) so one bad product cannot block its batch."""
        vectors: dict[str, np.ndarray] = {}
        rejected: dict[str, str] = {}
        for text in texts:
            try:
                vectors[text] = self.embedder.embed_documents([text])[0]
            except EmbeddingError as exc:
                if exc.retriable:
                    raise
                rejected[text] = f"embedding model rejected the product text: {exc}"
                log.warning("embedding rejected a text (%d chars): %s", len(text), exc)
        return vectors, rejected


def _dead_letter_rejected(plan: BatchPlan, events: Sequence[Event], rejected: dict[str, str]) -> list[EventResult]:
    if not rejected:
        return plan.results
    return [EventResult(Outcome.DEAD, rejected[event.sku])
            if event.sku in rejected and result.outcome is not Outcome.STALE else result
            for event, result in zip(events, plan.results)]

