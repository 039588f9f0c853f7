"""Prometheus metrics of the retrieval server (served on ``CATALOG_GRPC_METRICS_PORT`` when it is not 0)."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

STAGE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


def degraded_kind(reason: str) -> str:
    """A bounded label for a degraded reason (the reason itself is free text)."""
    text = reason.lower()
    for kind in ("embedding", "rerank", "group_id", "spell"):
        if kind in text:
            return kind
    return "other"


class SearchMetrics:
    """One registry per server, so several servers (or tests) in one process never collide. Implements
    ``retrieve.querylog.QueryLogCounters`` and the searcher's and server's observers (``searched``, ``rpc_done``):
    calls by RPC and status code with their latency, per-stage latency of answered searches, degraded answers by
    kind, and the query-embedding cache's hits and misses."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.querylog_published = Counter("catalog_search_querylog_published", "Query-log records the broker "
                                          "acknowledged.", registry=r)
        self.querylog_dropped = Counter("catalog_search_querylog_dropped", "Query-log records dropped, by reason "
                                        "(queue_full, broker_error, unserializable, shutdown).", ["reason"],
                                        registry=r)

        self.requests = Counter("catalog_search_requests", "RPCs by method and status code.", ["rpc", "code"],
                                registry=r)
        self.request_seconds = Histogram("catalog_search_request_seconds", "RPC latency inside the server.", ["rpc"],
                                         buckets=STAGE_BUCKETS, registry=r)
        self.stage_seconds = Histogram("catalog_search_stage_seconds", "Search stage latency (the response's "
                                       "timings).", ["stage"], buckets=STAGE_BUCKETS, registry=r)
        self.degraded = Counter("catalog_search_degraded", "Answers marked degraded, by kind (embedding: BM25 only; "
                                "rerank: fused order; group_id; other).", ["kind"], registry=r)
        self.cache_hits = Gauge("catalog_search_query_cache_hits", "Query-embedding cache hits since start.",
                                registry=r)
        self.cache_misses = Gauge("catalog_search_query_cache_misses", "Query-embedding cache misses since start.",
                                  registry=r)

    def track_cache(self, cache: Any) -> None:
        """Report ``cache.hits`` / ``cache.misses`` (a ``core.cache.TTLCache``) at every scrape."""
        self.cache_hits.set_function(lambda: cache.hits)
        self.cache_misses.set_function(lambda: cache.misses)

    def searched(self, response: Any) -> None:
        for stage, ms in response.timings_ms.items():
            self.stage_seconds.labels(stage).observe(ms / 1000.0)
        if response.degraded:
            for part in response.degraded_reason.split("; "):
                self.degraded.labels(degraded_kind(part)).inc()

    def rpc_done(self, rpc: str, code: str, seconds: float) -> None:
        self.requests.labels(rpc, code).inc()
        self.request_seconds.labels(rpc).observe(seconds)

    def published(self) -> None:
        self.querylog_published.inc()

    def dropped(self, reason: str) -> None:
        self.querylog_dropped.labels(reason).inc()

    def serve(self, port: int) -> None:
        start_http_server(port, registry=self.registry)
