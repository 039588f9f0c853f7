"""Ingest parts built from settings alone (no adapter): the retry policy and the micro-batcher.

The app shell (``app/ingest_wiring.py``) adds the embedder and the store; the reindex uses these directly.
"""

from __future__ import annotations

from catalog_search.core.settings import Settings
from catalog_search.ingest.batcher import Batcher
from catalog_search.ingest.metrics import IngestMetrics
from catalog_search.ingest.retry import RetryPolicy


def make_retry(settings: Settings, metrics: IngestMetrics) -> RetryPolicy:
    """The one retry layer: capped exponential backoff with jitter, counted in ``metrics``."""
    return RetryPolicy(initial_s=settings.retry.initial_s, max_s=settings.retry.max_s,
                       on_retry=lambda exc, _wait: metrics.retries.labels(type(exc).__name__).inc())


def make_batcher(settings: Settings) -> Batcher:
    return Batcher(max_events=settings.ingest.max_events, max_bytes=settings.ingest.max_bytes,
                   max_wait_s=settings.ingest.max_wait_ms / 1000)
