"""gRPC <-> domain mapping of ``catalog.search.v1.SearchService``; no search logic lives here.

The servicer converts a request to ``retrieve.domain.SearchRequest`` (validating nothing: the searcher does), calls
the searcher with the time left of the RPC's deadline, and converts the answer back. Errors map to status codes:

* ``InvalidRequest``                 -> INVALID_ARGUMENT (message "field: what is wrong")
* ``BackendError`` (retriable)       -> UNAVAILABLE (the client may retry), or DEADLINE_EXCEEDED when the RPC's
                                       deadline has already passed or left no time for the next store call
                                       (``NoTimeLeftError``, e.g. "deadline exceeded before count")
* ``BackendError`` (not retriable)   -> INTERNAL
* a request that is not a valid protobuf (e.g. a string that is not UTF-8) -> INVALID_ARGUMENT, never INTERNAL
* anything unexpected                -> INTERNAL with a generic message (details only in the server log)

A ``BackendError`` also sets the trailing metadata ``catalog-backend-error`` to its class name (``StoreError``,
``RerankError``, ...), so a client can tell "the server answered: a backend of it is down" from "no server".

``Rerank`` scores caller-supplied documents with the searcher's rerank stage (``retrieve.reranking``): the same
codes, plus FAILED_PRECONDITION when no reranker is configured; a reranker that is down, timed out or whose circuit
is open is UNAVAILABLE with the stage's reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

import grpc
from google.protobuf.message import DecodeError

from catalog_search.core.errors import BackendError, NoTimeLeftError
from catalog_search.retrieve.domain import (DEFAULT_FACET_SIZE, CategoryFilter, Facet, FacetRequest, FacetValue, Hit,
                                            InvalidRequest, ResultSet, SearchFilters, SearchRequest, SearchResponse,
                                            StageScores)
from catalog_search.retrieve.proto import search_pb2 as pb
from catalog_search.retrieve.reranking import (DocumentReranker, NoReranker, RerankedDocument, RerankRequest,
                                               RerankResponse)

log = logging.getLogger(__name__)

SERVICE_NAME: str = pb.DESCRIPTOR.services_by_name["SearchService"].full_name   # "catalog.search.v1.SearchService"
DEFAULT_TOP_K = 10
BACKEND_ERROR_KEY = "catalog-backend-error"    # trailing metadata: the BackendError class behind a status


class Searcher(Protocol):
    def search(self, req: SearchRequest, *, time_left_s: Callable[[], float] | None) -> SearchResponse: ...


# ---------------------------------------------------------------------------------------------------------- request

def request_from_proto(msg: pb.SearchRequest, *, default_candidates: int) -> SearchRequest:
    """Wire -> domain. Zero/unset fields take their documented defaults; out-of-range values pass through."""
    f = msg.filters
    filters = SearchFilters(
        categories=tuple(CategoryFilter(path=c.path, prefix=c.prefix) for c in f.categories),
        brands=tuple(f.brands),
        price_min=f.price_min if f.HasField("price_min") else None,
        price_max=f.price_max if f.HasField("price_max") else None,
        in_stock_only=f.in_stock_only,
        locale=f.locale or None,
        tenant=f.tenant or None,
    )
    return SearchRequest(
        query=msg.query,
        top_k=msg.top_k or DEFAULT_TOP_K,
        filters=filters,
        rerank=msg.rerank if msg.HasField("rerank") else True,
        candidates=msg.candidates or default_candidates,
        instruction=msg.instruction if msg.HasField("instruction") else None,
        fusion=msg.fusion or None,                              # type: ignore[arg-type]  (validated later)
        alpha=msg.alpha if msg.HasField("alpha") else None,
        retrievers=msg.retrievers or "both",                    # type: ignore[arg-type]
        group_by=msg.group_by or None,
        facets=tuple(FacetRequest(field=f.field, level=f.level or 1, ranges=tuple(f.ranges),
                                  size=f.size or DEFAULT_FACET_SIZE) for f in msg.facets),
        page_size=msg.page_size,
        page_token=msg.page_token,
        sort=msg.sort or "relevance",                           # type: ignore[arg-type]
        spell_correct=msg.spell_correct if msg.HasField("spell_correct") else None,
    )


def request_to_proto(req: SearchRequest) -> pb.SearchRequest:
    """Domain -> wire (what the typed client sends); defaults become the wire's empty values."""
    msg = pb.SearchRequest(query=req.query, top_k=req.top_k, filters=filters_to_proto(req.filters), rerank=req.rerank,
                           candidates=req.candidates, fusion=req.fusion or "",
                           retrievers="" if req.retrievers == "both" else req.retrievers, group_by=req.group_by or "",
                           facets=[pb.FacetRequest(field=f.field, level=f.level, ranges=list(f.ranges), size=f.size)
                                   for f in req.facets],
                           page_size=req.page_size, page_token=req.page_token,
                           sort="" if req.sort == "relevance" else req.sort)
    if req.instruction is not None:
        msg.instruction = req.instruction
    if req.alpha is not None:
        msg.alpha = req.alpha
    return msg


def filters_to_proto(filters: SearchFilters) -> pb.SearchFilters:
    msg = pb.SearchFilters(
        categories=[pb.CategoryFilter(path=c.path, prefix=c.prefix) for c in filters.categories],
        brands=list(filters.brands), in_stock_only=filters.in_stock_only,
        locale=filters.locale or "", tenant=filters.tenant or "")
    if filters.price_min is not None:
        msg.price_min = filters.price_min
    if filters.price_max is not None:
        msg.price_max = filters.price_max
    return msg


# --------------------------------------------------------------------------------------------------------- response

def response_to_proto(resp: SearchResponse) -> pb.SearchResponse:
    msg = pb.SearchResponse(hits=[_hit_to_proto(h) for h in resp.hits], degraded=resp.degraded,
                            degraded_reason=resp.degraded_reason, facets=[_facet_to_proto(f) for f in resp.facets],
                            next_page_token=resp.next_page_token, request_id=resp.request_id,
                            corrected_query=resp.corrected_query)
    if resp.result_set is not None:
        r = resp.result_set
        msg.result_set.CopyFrom(pb.ResultSet(depth=r.depth, products=r.products, size=r.size, offset=r.offset,
                                             sort=r.sort, group_by=r.group_by, description=r.description))
    msg.timings_ms.update({str(k): float(v) for k, v in resp.timings_ms.items()})
    msg.models.update({str(k): str(v) for k, v in resp.models.items()})
    return msg


def _hit_to_proto(hit: Hit) -> pb.Hit:
    s = hit.scores
    scores = pb.StageScores(fused=float(s.fused))
    for name in ("dense", "bm25", "rerank"):
        value = getattr(s, name)
        if value is not None:
            setattr(scores, name, float(value))
    return pb.Hit(sku=hit.sku, title=hit.title, brand=hit.brand, category=hit.category, price=float(hit.price),
                  currency=hit.currency, in_stock=hit.in_stock, score=float(hit.score), scores=scores,
                  group_id=hit.group_id, variant_count=hit.variant_count, variant_skus=list(hit.variant_skus))


def _facet_to_proto(facet: Facet) -> pb.Facet:
    values = []
    for v in facet.values:
        value = pb.FacetValue(value=v.value, count=v.count)
        if v.low is not None:
            value.low = v.low
        if v.high is not None:
            value.high = v.high
        values.append(value)
    return pb.Facet(field=facet.field, level=facet.level, values=values, counted=facet.counted,
                    own_filter_removed=facet.own_filter_removed)


def response_from_proto(msg: pb.SearchResponse) -> SearchResponse:
    r = msg.result_set
    result_set = ResultSet(depth=r.depth, products=r.products, size=r.size, offset=r.offset, sort=r.sort,
                           group_by=r.group_by, description=r.description) if msg.HasField("result_set") else None
    return SearchResponse(hits=[_hit_from_proto(h) for h in msg.hits], degraded=msg.degraded,
                          degraded_reason=msg.degraded_reason, timings_ms=dict(msg.timings_ms),
                          models=dict(msg.models), facets=tuple(_facet_from_proto(f) for f in msg.facets),
                          next_page_token=msg.next_page_token, result_set=result_set,
                          request_id=msg.request_id, corrected_query=msg.corrected_query)


def _facet_from_proto(msg: pb.Facet) -> Facet:
    values = tuple(FacetValue(value=v.value, count=v.count, low=v.low if v.HasField("low") else None,
                              high=v.high if v.HasField("high") else None) for v in msg.values)
    return Facet(field=msg.field, level=msg.level, values=values, counted=msg.counted,
                 own_filter_removed=msg.own_filter_removed)


def _hit_from_proto(msg: pb.Hit) -> Hit:
    s = msg.scores

    def opt(name: str) -> float | None:
        return getattr(s, name) if s.HasField(name) else None

    return Hit(sku=msg.sku, title=msg.title, brand=msg.brand, category=msg.category, price=msg.price,
               currency=msg.currency, in_stock=msg.in_stock, score=msg.score,
               scores=StageScores(dense=opt("dense"), bm25=opt("bm25"), fused=s.fused, rerank=opt("rerank")),
               group_id=msg.group_id, variant_count=msg.variant_count, variant_skus=tuple(msg.variant_skus))


# ---------------------------------------------------------------------------------------------------------- rerank

def rerank_request_from_proto(msg: pb.RerankRequest) -> RerankRequest:
    return RerankRequest(query=msg.query, documents=tuple(msg.documents),
                         instruction=msg.instruction if msg.HasField("instruction") else None)


def rerank_response_to_proto(resp: RerankResponse) -> pb.RerankResponse:
    msg = pb.RerankResponse(results=[pb.RerankedDocument(index=r.index, score=float(r.score), document=r.document)
                                     for r in resp.results], model=resp.model)
    msg.timings_ms.update({str(k): float(v) for k, v in resp.timings_ms.items()})
    return msg


def rerank_response_from_proto(msg: pb.RerankResponse) -> RerankResponse:
    return RerankResponse(results=[RerankedDocument(index=r.index, score=r.score, document=r.document)
                                   for r in msg.results], model=msg.model, timings_ms=dict(msg.timings_ms))


# -------------------------------------------------------------------------------------------------------- servicer

class _Undecodable:
    """Stands in for a request body that does not parse, so the servicer can answer INVALID_ARGUMENT."""

    def __init__(self, error: Exception) -> None:
        self.error = error


def _parse_request(data: bytes) -> pb.SearchRequest | _Undecodable:
    try:
        return pb.SearchRequest.FromString(data)
    except (DecodeError, ValueError) as exc:     # gRPC's own deserializer failure would be INTERNAL
        return _Undecodable(exc)


def _parse_rerank_request(data: bytes) -> pb.RerankRequest | _Undecodable:
    try:
        return pb.RerankRequest.FromString(data)
    except (DecodeError, ValueError) as exc:
        return _Undecodable(exc)


class SearchServicer:
    """Implements ``SearchService`` on top of a ``Searcher`` (and, for ``Rerank``, a ``DocumentReranker``)."""

    def __init__(self, searcher: Searcher, *, default_candidates: int = 100,
                 reranker: DocumentReranker | None = None) -> None:
        self.searcher = searcher
        self.default_candidates = default_candidates
        self.reranker = reranker or DocumentReranker(None)

    def Search(self, request: Any, context: grpc.ServicerContext) -> pb.SearchResponse:  # noqa: N802 - gRPC name
        if isinstance(request, _Undecodable):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                          "request: not a valid SearchRequest (strings must be UTF-8)")
        req = request_from_proto(request, default_candidates=self.default_candidates)
        resp = _answer(context, "search", lambda left: self.searcher.search(req, time_left_s=left))
        return response_to_proto(resp)

    def Rerank(self, request: Any, context: grpc.ServicerContext) -> pb.RerankResponse:  # noqa: N802 - gRPC name
        if isinstance(request, _Undecodable):
            context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                          "request: not a valid RerankRequest (strings must be UTF-8)")
        req = rerank_request_from_proto(request)
        resp = _answer(context, "rerank", lambda left: self.reranker.rerank(req, time_left_s=left))
        return rerank_response_to_proto(resp)


def _answer(context: grpc.ServicerContext, what: str, call: Callable[[Callable[[], float] | None], Any]) -> Any:
    """``call(time_left_s)`` with the domain's errors mapped to status codes once for every RPC: INVALID_ARGUMENT
    (the field named), FAILED_PRECONDITION (no reranker configured), UNAVAILABLE / INTERNAL for a retriable /
    permanent backend fault (DEADLINE_EXCEEDED when the caller's time ran out), INTERNAL without a traceback."""
    time_left_s = context.time_remaining if context.time_remaining() is not None else None
    try:
        return call(time_left_s)
    except InvalidRequest as exc:
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
    except NoReranker as exc:
        context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(exc))
    except BackendError as exc:
        code = grpc.StatusCode.UNAVAILABLE if exc.retriable else grpc.StatusCode.INTERNAL
        left = context.time_remaining()
        if exc.retriable and (isinstance(exc, NoTimeLeftError) or (left is not None and left <= 0)):
            code = grpc.StatusCode.DEADLINE_EXCEEDED    # the caller's time ran out, nothing is down
        log.warning("%s failed (%s): %s: %s", what, code.name, type(exc).__name__, exc)
        _abort_backend(context, code, exc)
    except Exception:  # noqa: BLE001 - never leak a traceback to callers
        log.exception("unexpected error in %s", what)
        context.abort(grpc.StatusCode.INTERNAL, "internal error (see the server log)")


def _abort_backend(context: grpc.ServicerContext, code: grpc.StatusCode, exc: BackendError) -> None:
    context.set_trailing_metadata(((BACKEND_ERROR_KEY, type(exc).__name__),))
    context.abort(code, f"{type(exc).__name__}: {exc}")


def add_to_server(servicer: SearchServicer, server: grpc.Server) -> None:
    """Register like ``search_pb2_grpc.add_SearchServiceServicer_to_server``, but with a tolerant deserializer."""
    handler = grpc.unary_unary_rpc_method_handler(
        servicer.Search, request_deserializer=_parse_request,
        response_serializer=pb.SearchResponse.SerializeToString)
    rerank = grpc.unary_unary_rpc_method_handler(
        servicer.Rerank, request_deserializer=_parse_rerank_request,
        response_serializer=pb.RerankResponse.SerializeToString)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE_NAME, {"Search": handler,
                                                                                        "Rerank": rerank}),))
