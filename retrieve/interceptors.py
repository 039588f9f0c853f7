"""Server interceptors of the retrieval gRPC server: bearer-token authentication (``CATALOG_GRPC_API_KEY``) and
per-call observation (metrics).

With a key set, every call must carry ``authorization: Bearer <key>`` metadata or is refused with UNAUTHENTICATED
before any work is done; the comparison is constant-time. ``grpc.health.v1`` and reflection stay open, so load
balancers and orchestrators can probe the server without the key. Off (no key) in the embedded default.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from typing import Any

import grpc

OPEN_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")
METADATA_KEY = "authorization"


def bearer(key: str) -> tuple[str, str]:
    """The metadata pair a client sends."""
    return (METADATA_KEY, f"Bearer {key}")


class BearerTokenInterceptor(grpc.ServerInterceptor):
    def __init__(self, key: str) -> None:
        if not key:
            raise ValueError("an empty API key would let everyone in; leave the interceptor out instead")
        self._expected = f"Bearer {key}".encode("utf-8")

        def refuse(_request: Any, context: grpc.ServicerContext) -> None:
            context.abort(grpc.StatusCode.UNAUTHENTICATED,
                          "missing or wrong bearer token (send 'authorization: Bearer <CATALOG_GRPC_API_KEY>')")
        self._refusal = grpc.unary_unary_rpc_method_handler(refuse)

    def intercept_service(self, continuation: Callable[[Any], Any], details: Any) -> Any:
        if details.method.startswith(OPEN_PREFIXES):
            return continuation(details)
        sent = dict(details.invocation_metadata or ()).get(METADATA_KEY, "")
        if isinstance(sent, bytes):
            sent = sent.decode("utf-8", "replace")
        if hmac.compare_digest(sent.encode("utf-8"), self._expected):
            return continuation(details)
        return self._refusal


class ObservingInterceptor(grpc.ServerInterceptor):
    """Reports every unary call's method, final status code and latency to ``observer.rpc_done`` (metrics); health
    and reflection calls are not counted. Placed before the token check, so refused strangers are counted too."""

    def __init__(self, observer: Any) -> None:
        self.observer = observer

    def intercept_service(self, continuation: Callable[[Any], Any], details: Any) -> Any:
        handler = continuation(details)
        if handler is None or handler.unary_unary is None or details.method.startswith(OPEN_PREFIXES):
            return handler
        rpc, inner, observer = details.method.rsplit("/", 1)[-1], handler.unary_unary, self.observer

        def observed(request: Any, context: grpc.ServicerContext) -> Any:
            started, code = time.perf_counter(), "OK"
            try:
                return inner(request, context)
            except BaseException:
                status = context.code()                   # set by context.abort
                code = status.name if status is not None else "UNKNOWN"
                raise
            finally:
                observer.rpc_done(rpc, code, time.perf_counter() - started)

        return grpc.unary_unary_rpc_method_handler(observed, request_deserializer=handler.request_deserializer,
                                                   response_serializer=handler.response_serializer)
