"""The retrieval gRPC server: SearchService + standard health checking + server reflection."""

from __future__ import annotations

import logging
import signal
import threading
import time
from concurrent import futures
from types import FrameType
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from catalog_search.core.errors import ConfigError
from catalog_search.core.settings import Settings
from catalog_search.retrieve.admission import Admission, AdmissionInterceptor
from catalog_search.retrieve.reranking import DocumentReranker
from catalog_search.retrieve.interceptors import BearerTokenInterceptor, ObservingInterceptor
from catalog_search.retrieve.servicer import SERVICE_NAME, Searcher, SearchServicer, add_to_server

log = logging.getLogger(__name__)

MAX_WORKERS = 16               # handlers mostly wait on Milvus / the embedder / the reranker
MAX_CONCURRENT_RPCS = 64       # beyond this, callers get RESOURCE_EXHAUSTED instead of an unbounded queue
# Of those, CATALOG_GRPC_MAX_INFLIGHT searches do work at once (retrieve/admission.py sheds the rest early).
GRACE_S = 5.0                  # in-flight RPCs get this long to finish on SIGTERM/SIGINT


class SearchServer:
    """A started ``grpc.Server`` plus what it serves; ``stop`` drains it and closes the searcher."""

    def __init__(self, server: grpc.Server, health_servicer: health.HealthServicer, searcher: Any,
                 address: str, port: int, *, owns_searcher: bool) -> None:
        self.server = server
        self.health = health_servicer
        self.searcher = searcher
        self.address = address
        self.port = port
        self._owns_searcher = owns_searcher
        self._stopped = threading.Event()

    def stop(self, grace_s: float | None = GRACE_S) -> None:
        """Report NOT_SERVING, let in-flight RPCs finish (up to ``grace_s``), then close the searcher we made."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        self.health.enter_graceful_shutdown()
        self.server.stop(grace_s).wait()
        close = getattr(self.searcher, "close", None)
        if self._owns_searcher and callable(close):
            close()


def start(settings: Settings, searcher: Searcher, *, address: str | None = None,
          owns_searcher: bool = False) -> SearchServer:
    """Serve ``searcher`` on ``address`` (default ``settings.grpc.address``); ``owns_searcher``: ``stop`` (and a
    failed start) closes it. The returned handle's ``stop()`` flips health to NOT_SERVING first. The ``Rerank`` RPC
    uses the searcher's ``rerank_stage`` (if it has one), so searches and reranks share one reranker and breaker."""
    address = address or settings.grpc.address
    key = settings.grpc.api_key.get_secret_value()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="search-rpc"),
                         interceptors=_interceptors(key, getattr(searcher, "observer", None),
                                                    Admission(settings.grpc.max_inflight,
                                                              max_wait_s=settings.grpc.max_queue_wait_s)),
                         maximum_concurrent_rpcs=MAX_CONCURRENT_RPCS,
                         # gRPC sets SO_REUSEPORT by default: a second server on a busy address would silently
                         # share the port (the kernel splitting connections) instead of failing to start.
                         options=[("grpc.so_reuseport", 0)])
    reranker = DocumentReranker(getattr(searcher, "rerank_stage", None))
    add_to_server(SearchServicer(searcher, default_candidates=settings.search.candidates, reranker=reranker), server)

    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection((SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), server)

    try:
        port = server.add_insecure_port(address)
    except RuntimeError as exc:          # grpcio >= 1.60 raises; older ones return 0
        port, cause = 0, exc
    else:
        cause = None
    if not port:
        if owns_searcher and callable(getattr(searcher, "close", None)):
            searcher.close()  # type: ignore[attr-defined]
        raise ConfigError(f"cannot listen on {address} (CATALOG_GRPC_ADDRESS): address in use or invalid") \
            from cause
    server.start()
    for name in ("", SERVICE_NAME):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    handle = SearchServer(server, health_servicer, searcher, address, port, owns_searcher=owns_searcher)
    log.info("search server listening on %s (port %d)", address, port)
    return handle


def _interceptors(api_key: str, observer: Any, admission: Admission) -> list[grpc.ServerInterceptor]:
    """Observation first (refused and shed calls count too), then the token check when a key is set (strangers
    never take a search slot), then admission control."""
    out: list[grpc.ServerInterceptor] = []
    if callable(getattr(observer, "rpc_done", None)):
        out.append(ObservingInterceptor(observer))
    if api_key:
        out.append(BearerTokenInterceptor(api_key))
    out.append(AdmissionInterceptor(admission))
    return out


def run_server(settings: Settings, searcher: Searcher, *, ready: Any = None) -> int:
    """Serve ``searcher`` (closed at the end) until SIGTERM/SIGINT, then drain gracefully. Blocks; for
    ``catalog-search serve``. ``ready`` (optional) is called with the ``SearchServer`` once it is listening.
    """
    started = time.monotonic()
    handle = start(settings, searcher, owns_searcher=True)
    log.info("search server ready in %.2fs", time.monotonic() - started)
    if ready is not None:
        ready(handle)
    stop_requested = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s: stopping (grace %.0fs)", signal.Signals(signum).name, GRACE_S)
        stop_requested.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        while not stop_requested.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        handle.stop(GRACE_S)
    log.info("search server stopped")
    return 0
