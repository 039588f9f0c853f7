"""Prometheus metrics of the ingest worker (exposed on ``CATALOG_METRICS_PORT`` when it is not 0)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
_FRESHNESS_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600)


class IngestMetrics:
    """One registry per worker, so several workers (or tests) in one process never collide."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.events = Counter("catalog_ingest_events", "Events by outcome.", ["outcome"], registry=r)
        self.batch_size = Histogram("catalog_ingest_batch_events", "Events per micro-batch.",
                                    buckets=(1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500), registry=r)
        self.batch_seconds = Histogram("catalog_ingest_batch_seconds", "Wall time to apply one micro-batch "
                                       "(read, embed, upsert, dead letters).", buckets=_LATENCY_BUCKETS, registry=r)
        self.embed_seconds = Histogram("catalog_ingest_embed_seconds", "Embedding time per micro-batch.",
                                       buckets=_LATENCY_BUCKETS, registry=r)
        self.embed_texts = Counter("catalog_ingest_embedded_texts", "Texts sent to the embedding model.", registry=r)
        self.retries = Counter("catalog_ingest_retries", "Transient faults retried, by error type.", ["error"],
                               registry=r)
        self.lag = Gauge("catalog_ingest_consumer_lag", "Records behind the partition end.", ["topic", "partition"],
                         registry=r)
        self.freshness = Histogram("catalog_ingest_freshness_seconds", "Produce timestamp to row durable in Milvus.",
                                   buckets=_FRESHNESS_BUCKETS, registry=r)

    def serve(self, port: int) -> None:
        start_http_server(port, registry=self.registry)
