"""Prometheus metrics of the retrieval server (served on ``CATALOG_GRPC_METRICS_PORT`` when it is not 0)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, start_http_server


class SearchMetrics:
    """One registry per server, so several servers (or tests) in one process never collide. Implements
    ``retrieve.querylog.QueryLogCounters``."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.querylog_published = Counter("catalog_search_querylog_published", "Query-log records the broker "
                                          "acknowledged.", registry=r)
        self.querylog_dropped = Counter("catalog_search_querylog_dropped", "Query-log records dropped, by reason "
                                        "(queue_full, broker_error, unserializable, shutdown).", ["reason"],
                                        registry=r)

    def published(self) -> None:
        self.querylog_published.inc()

    def dropped(self, reason: str) -> None:
        self.querylog_dropped.labels(reason).inc()

    def serve(self, port: int) -> None:
        start_http_server(port, registry=self.registry)
