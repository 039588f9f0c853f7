"""Python client of the retrieval gRPC service: plain Python arguments in, ``retrieve.domain`` objects out.

Every call has a deadline (``timeout_s``, covering all attempts). UNAVAILABLE alone is retried, ``retries`` times
with a small backoff (Search and Rerank are read-only, so a retry is always safe); every other failure is raised as
``SearchError`` with the server's message (INVALID_ARGUMENT as ``InvalidSearch``). A ``SearchUnavailable`` says
whether the server answered that one of its backends is down (``backend``: ``"StoreError"``, ``"RerankError"``, ...)
or no server answered at all (``backend`` None).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterable
from typing import Any

import grpc

from catalog_search.core.errors import CatalogError
from catalog_search.retrieve.domain import CategoryFilter, FacetRequest, SearchFilters, SearchResponse
from catalog_search.retrieve.proto import search_pb2 as pb
from catalog_search.retrieve.reranking import RerankResponse
from catalog_search.core.settings import GrpcSettings
from catalog_search.retrieve.interceptors import bearer, presented_token
from catalog_search.retrieve.tls import ClientTls, client_tls, open_channel, tls_hint
from catalog_search.retrieve.tokens import TokenTable, load_tokens

# the web front end checks its callers' tokens as the server does, and relays them (app.web.auth)
__all__ = ["SearchClient", "SearchError", "InvalidSearch", "SearchUnavailable", "build_request", "parse_facet",
           "response_to_dict", "response_to_json", "TokenTable", "load_tokens", "presented_token"]
from catalog_search.retrieve.servicer import (BACKEND_ERROR_KEY, SERVICE_NAME, filters_to_proto, rerank_response_from_proto,
                                              response_from_proto)

BACKOFF_INITIAL_S = 0.05
BACKOFF_MAX_S = 0.5
_UINT32_MAX = 2**32 - 1


class SearchError(CatalogError):
    """The search RPC failed; ``code`` is the ``grpc.StatusCode``, ``message`` the server's (or client's) text."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(f"{code.name}: {message}")
        self.code = code
        self.message = message


class InvalidSearch(SearchError):
    """INVALID_ARGUMENT: the message starts with the offending field, e.g. ``top_k: ...``."""

    def __init__(self, message: str) -> None:
        super().__init__(grpc.StatusCode.INVALID_ARGUMENT, message)


class SearchUnavailable(SearchError):
    """UNAVAILABLE on every attempt: the server is not running/reachable (``backend`` None), or it answered that a
    backend it needs is down (``backend`` names the error class, e.g. ``"RerankError"``)."""

    def __init__(self, message: str, *, attempts: int, backend: str | None = None) -> None:
        super().__init__(grpc.StatusCode.UNAVAILABLE, message)
        self.attempts = attempts
        self.backend = backend


class SearchClient:
    def __init__(self, address: str, *, timeout_s: float = 2.0, retries: int = 2,
                 options: Iterable[tuple[str, Any]] = (), api_key: str = "", tls: ClientTls | None = None) -> None:
        """``api_key``: sent as ``authorization: Bearer <key>`` on every call (the server's CATALOG_GRPC_API_KEY or
        a tenant token); a refused call raises ``SearchError`` with UNAUTHENTICATED. ``tls``: connect with TLS
        (``retrieve.tls.client_tls``; with a client certificate for mTLS); None: plaintext."""
        if timeout_s <= 0:
            raise ValueError("timeout_s must be > 0")
        if retries < 0:
            raise ValueError("retries must be >= 0")
        self.address = address
        self.timeout_s = timeout_s
        self.retries = retries
        self._metadata = (bearer(api_key),) if api_key else None
        self.tls = tls is not None
        self._channel = open_channel(address, tls, options)
        self._search = self._channel.unary_unary(
            f"/{SERVICE_NAME}/Search", request_serializer=pb.SearchRequest.SerializeToString,
            response_deserializer=pb.SearchResponse.FromString)
        self._rerank = self._channel.unary_unary(
            f"/{SERVICE_NAME}/Rerank", request_serializer=pb.RerankRequest.SerializeToString,
            response_deserializer=pb.RerankResponse.FromString)

    @classmethod
    def from_settings(cls, grpc_settings: GrpcSettings, *, address: str | None = None, **kwargs: Any) -> SearchClient:
        """A client as the settings say: their address (unless given), bearer token and TLS files."""
        return cls(address or grpc_settings.address, api_key=grpc_settings.api_key.get_secret_value(),
                   tls=client_tls(grpc_settings), **kwargs)

    def __enter__(self) -> SearchClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._channel.close()

    def search(self, query: str, *, top_k: int = 10, categories: Iterable[str | CategoryFilter] | str = (),
               brands: Iterable[str] | str = (), price_min: float | None = None, price_max: float | None = None,
               in_stock_only: bool = False, locale: str | None = None, tenant: str | None = None,
               rerank: bool = True, candidates: int | None = None, instruction: str | None = None,
               fusion: str | None = None, alpha: float | None = None, retrievers: str | None = None,
               group_by: str | None = None, facets: Iterable[str | FacetRequest] = (), page_size: int = 0,
               page_token: str = "", sort: str | None = None, spell_correct: bool | None = None,
               timeout_s: float | None = None, bearer_token: str | None = None) -> SearchResponse:
        """Search; ``categories`` given as "A > B" match that path and below, ``CategoryFilter`` objects as set.

        ``top_k=0``, ``candidates=None``, ``fusion=None``, ``alpha=None``, ``retrievers=None`` and ``sort=None``
        mean the server's defaults (``retrievers``: both, ``sort``: relevance). ``group_by="group_id"`` folds
        variants into one hit per group; ``facets`` are ``FacetRequest``s or their text form (``parse_facet``:
        "brand", "category:2", "price:25,50,100"); ``page_size`` > 0 pages the result set, ``page_token`` is the
        previous answer's ``next_page_token``; ``spell_correct=None`` is the server's default. The response carries
        ``request_id`` and ``corrected_query`` ("" when spelling changed nothing). ``bearer_token`` replaces the
        client's ``api_key`` for this call (a web front end relaying its caller's token). Raises ``InvalidSearch``,
        ``SearchUnavailable`` (after the retries) or ``SearchError``.
        """
        request = build_request(query, top_k=top_k, categories=categories, brands=brands, price_min=price_min,
                                price_max=price_max, in_stock_only=in_stock_only, locale=locale, tenant=tenant,
                                rerank=rerank, candidates=candidates, instruction=instruction, fusion=fusion,
                                alpha=alpha, retrievers=retrievers, group_by=group_by, facets=facets,
                                page_size=page_size, page_token=page_token, sort=sort,
                                spell_correct=spell_correct)
        return response_from_proto(self._call(request, self.timeout_s if timeout_s is None else timeout_s,
                                              bearer_token=bearer_token))

    def rerank(self, query: str, documents: Iterable[str], *, instruction: str | None = None,
               timeout_s: float | None = None, bearer_token: str | None = None) -> RerankResponse:
        """Score ``documents`` against ``query`` with the server's reranker; results best first, each with its index.

        Raises ``InvalidSearch`` (the field named: ``query``, ``documents[2]``...), ``SearchError`` with
        FAILED_PRECONDITION when the server has no reranker, ``SearchUnavailable`` when it (``backend`` None) or its
        reranker (``backend == "RerankError"``) is down.
        """
        request = build_rerank_request(query, documents, instruction=instruction)
        return rerank_response_from_proto(self._call(request, self.timeout_s if timeout_s is None else timeout_s,
                                                     self._rerank, bearer_token=bearer_token))

    def health(self, *, timeout_s: float | None = None) -> str:
        """The server's standard health status for the search service (``"SERVING"``, ``"NOT_SERVING"``...);
        ``"UNREACHABLE"`` when no server answers within the timeout. One attempt, no retries."""
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        stub = health_pb2_grpc.HealthStub(self._channel)
        try:
            reply = stub.Check(health_pb2.HealthCheckRequest(service=SERVICE_NAME),
                               timeout=self.timeout_s if timeout_s is None else timeout_s)
        except grpc.RpcError as exc:
            if exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                return "UNREACHABLE"
            return exc.code().name
        return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))

    def _call(self, request: Any, timeout_s: float, rpc: Any = None, *, bearer_token: str | None = None) -> Any:
        rpc = rpc or self._search
        metadata = self._metadata if bearer_token is None else ((bearer(bearer_token),) if bearer_token else None)
        deadline = time.monotonic() + timeout_s
        backoff = BACKOFF_INITIAL_S
        attempt = 0
        while True:
            attempt += 1
            left = deadline - time.monotonic()
            if left <= 0:
                raise SearchError(grpc.StatusCode.DEADLINE_EXCEEDED,
                                  f"no answer from {self.address} within {timeout_s:g}s ({attempt - 1} attempts)")
            try:
                return rpc(request, timeout=left, metadata=metadata)
            except grpc.RpcError as exc:
                code, details = exc.code(), exc.details() or ""
                if code == grpc.StatusCode.INVALID_ARGUMENT:
                    raise InvalidSearch(details) from None
                if code != grpc.StatusCode.UNAVAILABLE:
                    raise SearchError(code, details or code.name) from None
                pause = backoff * random.uniform(0.5, 1.0)
                if attempt > self.retries or deadline - time.monotonic() <= pause:
                    backend = _backend_error(exc)
                    if backend:
                        raise SearchUnavailable(f"the search service at {self.address} answered that a backend is "
                                                f"down ({attempt} attempt(s)): {details}", attempts=attempt,
                                                backend=backend) from None
                    raise SearchUnavailable(f"search service at {self.address} unavailable after {attempt} "
                                            f"attempt(s): {details}{tls_hint(details, tls=self.tls)}",
                                            attempts=attempt) from None
                time.sleep(pause)
                backoff = min(backoff * 2, BACKOFF_MAX_S)


def build_request(query: str, *, top_k: int = 10, categories: Iterable[str | CategoryFilter] | str = (),
                  brands: Iterable[str] | str = (), price_min: float | None = None, price_max: float | None = None,
                  in_stock_only: bool = False, locale: str | None = None, tenant: str | None = None,
                  rerank: bool = True, candidates: int | None = None, instruction: str | None = None,
                  fusion: str | None = None, alpha: float | None = None, retrievers: str | None = None,
                  group_by: str | None = None, facets: Iterable[str | FacetRequest] = (), page_size: int = 0,
                  page_token: str = "", sort: str | None = None,
                  spell_correct: bool | None = None) -> pb.SearchRequest:
    """The wire request for ``SearchClient.search``'s arguments. Values the wire cannot carry raise ``InvalidSearch``
    (negative counts, text that is not UTF-8, a facet text that does not parse); everything else is validated by
    the server."""
    if isinstance(categories, (str, CategoryFilter)):
        categories = (categories,)
    if isinstance(brands, str):
        brands = (brands,)
    cats = tuple(c if isinstance(c, CategoryFilter) else CategoryFilter(path=c, prefix=True) for c in categories)
    filters = SearchFilters(categories=cats, brands=tuple(brands), price_min=price_min, price_max=price_max,
                            in_stock_only=bool(in_stock_only), locale=locale or None, tenant=tenant or None)
    if isinstance(facets, (str, FacetRequest)):
        facets = (facets,)
    specs = tuple(f if isinstance(f, FacetRequest) else parse_facet(f, where=f"facets[{i}]")
                  for i, f in enumerate(facets))
    texts = {"query": query, "locale": locale, "tenant": tenant, "instruction": instruction, "fusion": fusion,
             "retrievers": retrievers, "group_by": group_by, "page_token": page_token, "sort": sort,
             **{f"facets[{i}].field": f.field for i, f in enumerate(specs)},
             **{f"filters.categories[{i}]": c.path for i, c in enumerate(cats)},
             **{f"filters.brands[{i}]": b for i, b in enumerate(filters.brands)}}
    _check_texts(texts)
    for name, value in (("top_k", top_k), ("candidates", candidates), ("page_size", page_size),
                        *((f"facets[{i}].level", f.level) for i, f in enumerate(specs)),
                        *((f"facets[{i}].size", f.size) for i, f in enumerate(specs))):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or not 0 <= value <= _UINT32_MAX):
            raise InvalidSearch(f"{name}: must be a non-negative integer, got {value!r}")
    numbers = [(f"filters.{n}", v) for n, v in (("price_min", price_min), ("price_max", price_max))]
    numbers += [("alpha", alpha), *((f"facets[{i}].ranges", e) for i, f in enumerate(specs) for e in f.ranges)]
    for name, value in numbers:
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise InvalidSearch(f"{name}: must be a number, got {value!r}")
    msg = pb.SearchRequest(query=query, top_k=top_k, filters=filters_to_proto(filters), rerank=rerank,
                           candidates=candidates or 0, fusion=fusion or "", retrievers=retrievers or "",
                           group_by=group_by or "", page_size=page_size, page_token=page_token, sort=sort or "",
                           facets=[pb.FacetRequest(field=f.field, level=f.level, ranges=[float(e) for e in f.ranges],
                                                   size=f.size) for f in specs])
    if instruction is not None:
        msg.instruction = instruction
    if alpha is not None:
        msg.alpha = float(alpha)
    if spell_correct is not None:
        msg.spell_correct = bool(spell_correct)
    return msg


def _check_texts(texts: dict[str, Any]) -> None:
    """Every given text must be a str the wire can carry (UTF-8 encodable); ``InvalidSearch`` names the field."""
    for name, text in texts.items():
        if text is None:
            continue
        if not isinstance(text, str):
            raise InvalidSearch(f"{name}: must be a string, got {type(text).__name__}")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidSearch(f"{name}: not valid Unicode text (lone surrogate)") from None


def build_rerank_request(query: str, documents: Iterable[str], *, instruction: str | None = None) -> pb.RerankRequest:
    """The wire request of ``SearchClient.rerank``; values the wire cannot carry raise ``InvalidSearch``."""
    if isinstance(documents, (str, bytes)):
        raise InvalidSearch("documents: must be a list of strings, not one string")
    docs = list(documents)
    texts = {"query": query, "instruction": instruction, **{f"documents[{i}]": d for i, d in enumerate(docs)}}
    _check_texts(texts)
    msg = pb.RerankRequest(query=query, documents=docs)
    if instruction is not None:
        msg.instruction = instruction
    return msg


def _backend_error(exc: grpc.RpcError) -> str | None:
    """The server's ``catalog-backend-error`` trailing metadata: which backend error made it answer UNAVAILABLE."""
    trailing = getattr(exc, "trailing_metadata", None)
    for key, value in (trailing() if callable(trailing) else None) or ():
        if key == BACKEND_ERROR_KEY:
            return str(value)
    return None


def parse_facet(text: str, *, where: str = "facet") -> FacetRequest:
    """A facet in text form: ``brand``, ``in_stock``, ``locale``, ``category`` or ``category:LEVEL``, ``price`` or
    ``price:EDGE,EDGE,...`` (ascending bucket edges). The server validates names, levels and edges."""
    if not isinstance(text, str):
        raise InvalidSearch(f"{where}: must be a string or FacetRequest, got {type(text).__name__}")
    field, _, arg = text.strip().partition(":")
    if not arg:
        return FacetRequest(field=field)
    if field == "category":
        try:
            return FacetRequest(field=field, level=int(arg))
        except ValueError:
            raise InvalidSearch(f"{where}: category level must be an integer, got {arg!r}") from None
    if field == "price":
        try:
            return FacetRequest(field=field, ranges=tuple(float(e) for e in arg.split(",") if e.strip()))
        except ValueError:
            raise InvalidSearch(f"{where}: price ranges must be comma-separated numbers, got {arg!r}") from None
    raise InvalidSearch(f"{where}: only category:LEVEL and price:EDGES take an argument, got {text!r}")


# ------------------------------------------------------------------------------------------- JSON (the CLI's --json)

def response_to_dict(resp: SearchResponse) -> dict[str, Any]:
    """JSON-ready form (the CLI's ``--json``): ``hits`` (each with ``group_id`` and ``variant_count``; grouped
    answers list ``variant_skus``), ``facets`` by name (``{"brand": [{"value": "Sony", "count": 3}, ...]}``; price
    buckets add ``from``/``to``), ``next_page_token`` and, for shaped requests, ``result_set``."""
    offset = resp.result_set.offset if resp.result_set is not None else 0
    out: dict[str, Any] = {
        "hits": [{"rank": offset + i, "sku": h.sku, "title": h.title, "brand": h.brand, "category": h.category,
                  "price": h.price, "currency": h.currency, "in_stock": h.in_stock, "score": h.score,
                  "scores": {"dense": h.scores.dense, "bm25": h.scores.bm25, "fused": h.scores.fused,
                             "rerank": h.scores.rerank},
                  "group_id": h.group_id, "variant_count": h.variant_count,
                  **({"variant_skus": list(h.variant_skus)} if h.variant_count else {})}
                 for i, h in enumerate(resp.hits, 1)],
        "facets": {f.name: [{"value": v.value, "count": v.count,
                             **({"from": v.low, "to": v.high} if v.low is not None else {})} for v in f.values]
                   for f in resp.facets},
        "next_page_token": resp.next_page_token,
        "degraded": resp.degraded,
        "degraded_reason": resp.degraded_reason,
        "timings_ms": resp.timings_ms,
        "models": resp.models,
        "request_id": resp.request_id,
        "corrected_query": resp.corrected_query,
    }
    if resp.result_set is not None:
        r = resp.result_set
        out["result_set"] = {"depth": r.depth, "products": r.products, "size": r.size, "offset": r.offset,
                             "sort": r.sort, "group_by": r.group_by, "description": r.description,
                             "facets_own_filter_removed": [f.name for f in resp.facets if f.own_filter_removed]}
    return out


def response_to_json(resp: SearchResponse) -> str:
    return json.dumps(response_to_dict(resp), ensure_ascii=False)
