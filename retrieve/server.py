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
from catalog_search.retrieve.tls import server_credentials
from catalog_search.retrieve.tokens import TokenTable, load_tokens

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
    try:
        tokens, credentials = _access(settings)
    except ConfigError:
        if owns_searcher and callable(getattr(searcher, "close", None)):
            searcher.close()  # type: ignore[attr-defined]
        raise
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="search-rpc"),
                         interceptors=_interceptors(tokens, getattr(searcher, "observer", None),
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

    port, cause = _bind(server, address, credentials)
    if not port:
        if owns_searcher and callable(getattr(searcher, "close", None)):
            searcher.close()  # type: ignore[attr-defined]
        if credentials is not None and _address_is_free(address):
            raise ConfigError("CATALOG_GRPC_TLS_CERT_FILE / CATALOG_GRPC_TLS_KEY_FILE: grpc cannot serve TLS with "
                              "them (is the key the certificate's own?)") from cause
        raise ConfigError(f"cannot listen on {address} (CATALOG_GRPC_ADDRESS): address in use or invalid") \
            from cause
    server.start()
    for name in ("", SERVICE_NAME):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    handle = SearchServer(server, health_servicer, searcher, address, port, owns_searcher=owns_searcher)
    log.info("search server listening on %s (port %d, %s, %s)", address, port,
             "plaintext" if credentials is None else "mTLS" if settings.grpc.tls_client_ca_file else "TLS",
             "no authentication" if tokens is None else f"{len(tokens)} bearer token(s)")
    return handle


def _bind(server: grpc.Server, address: str,
          credentials: grpc.ServerCredentials | None) -> tuple[int, BaseException | None]:
    """The port ``server`` listens on at ``address`` (TLS with ``credentials``), 0 when it cannot, and why."""
    try:
        port = server.add_secure_port(address, credentials) if credentials else server.add_insecure_port(address)
    except RuntimeError as exc:          # grpcio >= 1.60 raises; older ones return 0
        return 0, exc
    return port, None


def _address_is_free(address: str) -> bool:
    """Whether a plaintext server could listen on ``address`` (tells a bad address from bad TLS files)."""
    probe = grpc.server(futures.ThreadPoolExecutor(max_workers=1), options=[("grpc.so_reuseport", 0)])
    try:
        return bool(_bind(probe, address, None)[0])
    finally:
        probe.stop(None)


def _access(settings: Settings) -> tuple[TokenTable | None, grpc.ServerCredentials | None]:
    """Who may call (bearer tokens, tenant tokens) and over what (TLS / mTLS credentials), from the settings; a
    missing or unreadable file is a ``ConfigError`` naming its setting."""
    tokens = load_tokens(settings.grpc)
    if settings.search.tenant and settings.grpc.tenant_tokens_file:
        raise ConfigError("CATALOG_SEARCH_TENANT and CATALOG_GRPC_TENANT_TOKENS_FILE: set one of them (a fixed "
                          "tenant confines every call already)")
    return tokens, server_credentials(settings.grpc)


def _interceptors(tokens: TokenTable | None, observer: Any, admission: Admission) -> list[grpc.ServerInterceptor]:
    """Observation first (refused and shed calls count too), then the token check when tokens are set (strangers
    never take a search slot), then admission control."""
    out: list[grpc.ServerInterceptor] = []
    if callable(getattr(observer, "rpc_done", None)):
        out.append(ObservingInterceptor(observer))
    if tokens is not None:
        out.append(BearerTokenInterceptor(tokens))
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
