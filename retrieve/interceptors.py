"""Server interceptors of the retrieval gRPC server: bearer-token authentication (``CATALOG_GRPC_API_KEY``, tenant
tokens) and per-call observation (metrics).

With tokens configured (``retrieve.tokens.TokenTable``), every call must carry ``authorization: Bearer <token>``
metadata or is refused with UNAUTHENTICATED before any work is done; the comparison is constant-time. A tenant
token's call runs bound to its tenant (``retrieve.tenancy``), so the searcher confines it to that tenant whatever the
request sends. ``grpc.health.v1`` and reflection stay open, so load balancers and orchestrators can probe the server
without a token. Off (no tokens) in the embedded default.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import grpc

from catalog_search.retrieve.tenancy import bound_to
from catalog_search.retrieve.tokens import TokenTable

OPEN_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")
METADATA_KEY = "authorization"
SCHEME = "Bearer "


def bearer(key: str) -> tuple[str, str]:
    """The metadata pair a client sends."""
    return (METADATA_KEY, f"{SCHEME}{key}")


def presented_token(header: str | bytes | None) -> str:
    """The token of an ``authorization: Bearer <token>`` value ("" when absent or another scheme)."""
    if isinstance(header, bytes):
        header = header.decode("utf-8", "replace")
    if not header or not header.startswith(SCHEME):
        return ""
    return header[len(SCHEME):].strip()


class BearerTokenInterceptor(grpc.ServerInterceptor):
    def __init__(self, tokens: TokenTable | str) -> None:
        if isinstance(tokens, str):
            if not tokens:
                raise ValueError("an empty API key would let everyone in; leave the interceptor out instead")
            tokens = TokenTable({tokens: None})
        self._tokens = tokens

        def refuse(_request: Any, context: grpc.ServicerContext) -> None:
            context.abort(grpc.StatusCode.UNAUTHENTICATED,
                          "missing or unknown bearer token (send 'authorization: Bearer <token>': "
                          "CATALOG_GRPC_API_KEY or a tenant token)")
        self._refusal = grpc.unary_unary_rpc_method_handler(refuse)

    def intercept_service(self, continuation: Callable[[Any], Any], details: Any) -> Any:
        if details.method.startswith(OPEN_PREFIXES):
            return continuation(details)
        sent = dict(details.invocation_metadata or ()).get(METADATA_KEY)
        grant = self._tokens.grant(presented_token(sent))
        if grant is None:
            return self._refusal
        handler = continuation(details)
        if grant.tenant is None or handler is None:
            return handler
        if handler.unary_unary is None:          # no streaming RPC can be confined: refuse it to tenant tokens
            return self._refusal
        inner, tenant = handler.unary_unary, grant.tenant

        def confined(request: Any, context: grpc.ServicerContext) -> Any:
            with bound_to(tenant):         # runs in the handler's thread, around the servicer
                return inner(request, context)

        return grpc.unary_unary_rpc_method_handler(confined, request_deserializer=handler.request_deserializer,
                                                   response_serializer=handler.response_serializer)


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
