"""Wiring: build the ingest components from settings (the entry point reads settings once and passes them here)."""

from __future__ import annotations

import math

from catalog_search.core.cache import TTLCache
from catalog_search.adapters.embedding.factory import make_embedder
from catalog_search.core.embedding import Embedder
from catalog_search.core.settings import Settings
from catalog_search.core.store import VectorStore
from catalog_search.adapters.milvus.store import MilvusStore
from catalog_search.ingest.metrics import IngestMetrics
from catalog_search.ingest.pipeline import Pipeline
from catalog_search.ingest.processor import BatchProcessor, DeadLetterSink
from catalog_search.ingest.parts import make_batcher, make_retry

__all__ = ["make_batcher", "make_processor", "make_retry"]


def make_processor(settings: Settings, dead_letters: DeadLetterSink, *, store: VectorStore | None = None,
                   metrics: IngestMetrics | None = None, embedder: Embedder | None = None) -> BatchProcessor:
    """The batch processor of ``settings``; ``store``/``embedder`` replace the ones the settings would open (tests,
    benchmarks' labelled controls)."""
    metrics = metrics or IngestMetrics()
    retry = make_retry(settings, metrics)
    owned = ()
    if store is None:
        store = MilvusStore.from_settings(settings)
        owned = (store,)                      # closed with the processor
        try:
            retry.call("create or open the collection", store.ensure_collection)  # Milvus may still be starting
        except BaseException:
            store.close()
            raise
    cache = TTLCache(settings.embed.cache_size, math.inf) if settings.embed.cache_size else None
    # one full round of embedding requests per chunk: its rows are written while the next round is embedded
    pipeline = Pipeline(embedder or make_embedder(settings), store, embed_attributes=settings.embed.attributes,
                        text_cache=cache, write_chunk=settings.embed.batch_size * settings.embed.max_concurrency)
    return BatchProcessor(pipeline, dead_letters, retry, max_event_bytes=settings.ingest.max_event_bytes,
                          metrics=metrics, owned=owned)
