"""Apply a batch of valid events: read stored rows, plan, embed only changed texts, upsert whole rows.

A changed text is embedded once per batch, and not at all when ``text_cache`` (text hash -> vector, LRU) already holds
it from an earlier batch: the model is fixed for a pipeline's lifetime, so equal texts have equal vectors.

With ``write_chunk`` the batch's texts are embedded a chunk at a time and each chunk's rows are upserted on a writer
thread while the next chunk is embedded (rows that need no model, such as price/stock patches, go first), so the
model never waits for Milvus; ``process`` still returns only once every row is durable.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor, wait
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from catalog_search.core.embedding import Embedder
from catalog_search.core.errors import EmbeddingError, InputTooLongError
from catalog_search.core.events import Event
from catalog_search.core.cache import TTLCache
from catalog_search.core.product import DEFAULT_EMBED_ATTRIBUTES, text_hash
from catalog_search.core.store import VectorStore
from catalog_search.ingest.plan import BatchPlan, EventResult, Outcome, plan_batch

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PipelineResult:
    results: list[EventResult]     # aligned with the input events
    embedded_texts: int            # texts sent to the model (distinct changed texts not in the text cache)
    embed_seconds: float
    written: int                   # rows upserted


class Pipeline:
    """The batch-level core shared by the Kafka worker and the file backfill.

    Raises ``BackendError`` when the embedder or store fails as a whole (the caller retries, one layer); a text the
    model rejects for good (``retriable=False``) only dead-letters the events of that sku.
    """

    def __init__(self, embedder: Embedder, store: VectorStore, *,
                 embed_attributes: Iterable[str] = DEFAULT_EMBED_ATTRIBUTES,
                 clock: Callable[[], float] = time.time,
                 text_cache: TTLCache[np.ndarray] | None = None, write_chunk: int = 0) -> None:
        if write_chunk < 0:
            raise ValueError("write_chunk must be >= 0 (0: one upsert per batch, after all embedding)")
        self.embedder = embedder
        self.store = store
        self.write_chunk = write_chunk
        self._writer: ThreadPoolExecutor | None = None
        self.embed_attributes = tuple(embed_attributes)
        self.clock = clock
        self.text_cache = text_cache

    def process(self, events: Sequence[Event]) -> PipelineResult:
        if not events:
            return PipelineResult([], 0, 0.0, 0)
        stored = self.store.fetch(sorted({event.sku for event in events}))
        plan = plan_batch(events, stored, now_ms=int(self.clock() * 1000), embed_attributes=self.embed_attributes)
        plain = [row for sku, row in plan.writes.items() if sku not in plan.to_embed]
        chunks = self._chunks(plan.to_embed) if self.write_chunk else []
        if len(chunks) < 2:                               # one upsert after the embedding
            started = time.perf_counter()
            vectors, rejected, sent = self._embed(plan.to_embed)
            embed_seconds = time.perf_counter() - started
            rows = plain + [plan.writes[sku].with_changes(vector=v) for sku, v in vectors.items()]
            if rows:
                self.store.upsert(rows)
            return PipelineResult(_dead_letter_rejected(plan, events, rejected), sent, embed_seconds, len(rows))
        return self._overlapped(events, plan, plain, chunks)

    def _chunks(self, texts_by_sku: dict[str, str]) -> list[dict[str, str]]:
        """``texts_by_sku`` split into chunks of at most ``write_chunk`` distinct texts (a text's skus together)."""
        by_text: dict[str, list[str]] = {}
        for sku, text in texts_by_sku.items():
            by_text.setdefault(text, []).append(sku)
        texts = list(by_text)
        return [{sku: text for text in texts[i:i + self.write_chunk] for sku in by_text[text]}
                for i in range(0, len(texts), self.write_chunk)]

    def _overlapped(self, events: Sequence[Event], plan: BatchPlan, plain: list,
                    chunks: list[dict[str, str]]) -> PipelineResult:
        writer = self._writer_pool()
        pending = writer.submit(self.store.upsert, plain) if plain else None
        rejected: dict[str, str] = {}
        sent = written = 0
        embed_seconds = 0.0
        try:
            for chunk in chunks:
                started = time.perf_counter()
                vectors, chunk_rejected, chunk_sent = self._embed(chunk)     # meanwhile the last chunk is written
                embed_seconds += time.perf_counter() - started
                rejected.update(chunk_rejected)
                sent += chunk_sent
                if pending is not None:
                    pending.result()
                rows = [plan.writes[sku].with_changes(vector=v) for sku, v in vectors.items()]
                pending = writer.submit(self.store.upsert, rows) if rows else None
                written += len(rows)
            if pending is not None:
                pending.result()
                pending = None
        finally:
            if pending is not None:                 # an embedding failed: let the write in flight finish first
                wait([pending])
        return PipelineResult(_dead_letter_rejected(plan, events, rejected), sent, embed_seconds,
                              written + len(plain))

    def _writer_pool(self) -> ThreadPoolExecutor:
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-upsert")
        return self._writer

    def close(self) -> None:
        if self._writer is not None:
            self._writer.shutdown(wait=True)
            self._writer = None

    def _embed(self, texts_by_sku: dict[str, str]) -> tuple[dict[str, np.ndarray], dict[str, str], int]:
        """Vectors by sku, embedding each distinct uncached text once; skus whose text the model refuses for good;
        and how many texts went to the model."""
        if not texts_by_sku:
            return {}, {}, 0
        cached = self._cached(texts_by_sku.values())
        unique = [t for t in dict.fromkeys(texts_by_sku.values()) if t not in cached]
        by_text: dict[str, np.ndarray] = {}
        rejected_texts: dict[str, str] = {}
        if unique:
            try:
                by_text = dict(zip(unique, self.embedder.embed_documents(unique)))
            except EmbeddingError as exc:
                if exc.retriable:
                    raise
                by_text, rejected_texts = self._embed_one_by_one(unique)
            if self.text_cache is not None:
                for text, vector in by_text.items():
                    self.text_cache.put(text_hash(text), vector)
        by_text.update(cached)
        vectors = {sku: by_text[text] for sku, text in texts_by_sku.items() if text in by_text}
        rejected = {sku: rejected_texts[text] for sku, text in texts_by_sku.items() if text in rejected_texts}
        return vectors, rejected, len(unique)

    def _cached(self, texts: Iterable[str]) -> dict[str, np.ndarray]:
        if self.text_cache is None:
            return {}
        found = {}
        for text in dict.fromkeys(texts):
            vector = self.text_cache.get(text_hash(text))
            if vector is not None:
                found[text] = vector
        return found

    def _embed_one_by_one(self, texts: list[str]) -> tuple[dict[str, np.ndarray], dict[str, str]]:
        """Isolate the texts the model refuses (e.g. too long) so one bad product cannot block its batch.

        When the server refuses *every* text, and not all for being too long, the fault is the server's (a wrong
        model name, key or dimension: HTTP 401/404/400 for any input), not the products': that error is raised, so
        nothing is dead-lettered and nothing committed, instead of dead-lettering the whole stream."""
        vectors: dict[str, np.ndarray] = {}
        refused: dict[str, EmbeddingError] = {}
        for text in texts:
            try:
                vectors[text] = self.embedder.embed_documents([text])[0]
            except EmbeddingError as exc:
                if exc.retriable:
                    raise
                refused[text] = exc
        server_fault = next((e for e in refused.values() if not isinstance(e, InputTooLongError)), None)
        if not vectors and server_fault is not None:
            raise server_fault
        rejected: dict[str, str] = {}
        for text, exc in refused.items():
            rejected[text] = f"embedding model rejected the product text: {exc}"
            log.warning("embedding rejected a text (%d chars): %s", len(text), exc)
        return vectors, rejected


def _dead_letter_rejected(plan: BatchPlan, events: Sequence[Event], rejected: dict[str, str]) -> list[EventResult]:
    if not rejected:
        return plan.results
    return [EventResult(Outcome.DEAD, rejected[event.sku])
            if event.sku in rejected and result.outcome is not Outcome.STALE else result
            for event, result in zip(events, plan.results)]

