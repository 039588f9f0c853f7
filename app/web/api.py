"""The HTTP JSON API (FastAPI) and the page's routes; every call goes to the retrieval service through the client.

Routes:

* ``POST /v1/search``: the gRPC ``SearchRequest`` as JSON (``filters.categories`` items are ``{"path", "prefix"}``
  objects as on the wire, or plain strings, which match the path and everything below it, as the typed client
  does; ``facets`` items are ``FacetRequest`` objects or the CLI's text form, ``"category:2"``); answers the
  ``SearchResponse`` as JSON (each hit with its ``rank``; the JSON of ``catalog-search search --json``).
* ``POST /v1/rerank``: ``{"query", "documents": [...], "instruction"?}`` -> the documents scored by the service's
  reranker, best first, each with its input ``index``.
* ``GET /v1/status``: whether the retrieval service answers its health check (200 when SERVING, else 503).
* ``GET /openapi.json``: the schema. ``GET /``: the page; ``/static/...``: its files.

With tokens (``create_app(..., tokens=)``, from the gRPC settings), ``/v1/search`` and ``/v1/rerank`` need
``Authorization: Bearer <token>`` (401 otherwise) and relay it to the service (``app.web.auth``).

Errors are one JSON shape, ``{"error": {"status", "code", "field", "message", "backend"}}``: an unknown or mistyped
JSON field and the service's INVALID_ARGUMENT are 400 with ``field`` named (``top_k``, ``filters.price_min``,
``documents[2]``); the service unreachable, or one of its backends down (``backend``: ``StoreError``,
``RerankError``, ...), is 503; a missing or unknown token is 401; no reranker configured is 501; the deadline
passing is 504; anything else the service answers is 502. A search whose reranker is down is no error: it answers in fused order with ``degraded`` set.

Every response carries a Content-Security-Policy that lets the page load and call nothing but this origin.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import grpc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, field_validator

from catalog_search.app.web.auth import relayed, token_checker
from catalog_search.retrieve.client import (InvalidSearch, SearchError, SearchUnavailable, TokenTable, parse_facet,
                                            response_to_dict)
from catalog_search.retrieve.domain import CategoryFilter, FacetRequest, SearchResponse
from catalog_search.retrieve.reranking import RerankResponse

API_VERSION = "1"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


class SearchBackend(Protocol):
    """What the API needs of ``retrieve.client.SearchClient``."""

    address: str

    def search(self, query: str, **kwargs: Any) -> SearchResponse: ...

    def rerank(self, query: str, documents: Iterable[str], *, instruction: str | None = None,
               **kwargs: Any) -> RerankResponse: ...

    def health(self, *, timeout_s: float | None = None) -> str: ...


def static_dir() -> Path:
    return Path(str(resources.files("catalog_search.app.web") / "static"))


# ----------------------------------------------------------------------------------------------------- the models

class _Strict(BaseModel):
    # unknown fields are refused (a typo such as "prcie" would otherwise be a silently ignored filter); no coercion
    model_config = ConfigDict(extra="forbid", strict=True)


class CategoryFilterIn(_Strict):
    path: str
    prefix: bool = Field(False, description="true: the path and everything below it; false: exactly this path")


class FiltersIn(_Strict):
    categories: list[CategoryFilterIn] = Field(default_factory=list, description="any of; a plain string is "
                                               "{\"path\": it, \"prefix\": true}")
    brands: list[str] = Field(default_factory=list, description="any of")
    price_min: float | None = None
    price_max: float | None = None
    in_stock_only: bool = False
    locale: str = Field("", description="empty: any locale")
    tenant: str = Field("", description="empty: any tenant")

    @field_validator("categories", mode="before")
    @classmethod
    def _plain_paths(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"path": v, "prefix": True} if isinstance(v, str) else v for v in value]
        return value


class FacetIn(_Strict):
    field: str
    level: int = Field(1, description="category: the path level counted (1 = top)")
    ranges: list[float] = Field(default_factory=list, description="price: ascending bucket edges")
    size: int = Field(10, description="at most this many values")


class SearchIn(_Strict):
    query: str
    top_k: int = Field(0, description="0 = the default (10); at most 100")
    filters: FiltersIn = Field(default_factory=FiltersIn)
    rerank: bool | None = Field(None, description="unset = on")
    candidates: int = Field(0, description="fused candidates handed to the reranker; 0 = the server's default")
    instruction: str | None = Field(None, description="overrides the server's query instruction")
    fusion: str = Field("", description="rrf | weighted; empty = the server's")
    alpha: float | None = Field(None, description="weighted fusion: weight of the dense side, 0..1")
    retrievers: str = Field("", description="both | dense | bm25; empty = both")
    group_by: str = Field("", description="group_id: one hit per variant group; empty = none")
    facets: list[FacetIn] = Field(default_factory=list, description="{field, level, ranges, size}, or the text form "
                                  "brand, category[:LEVEL], price[:EDGE,...], in_stock, locale")
    page_size: int = Field(0, description="> 0: pages of this many hits (top_k is then ignored)")
    page_token: str = Field("", description="next_page_token of the previous page")
    sort: str = Field("", description="relevance | price_asc | price_desc | newest; empty = relevance")
    spell_correct: bool | None = Field(None, description="correct misspelled terms on the BM25 side; unset = the "
                                       "server's default")

    @field_validator("facets", mode="before")
    @classmethod
    def _facet_texts(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        out = []
        for item in value:
            if isinstance(item, str):
                try:
                    f = parse_facet(item)
                except InvalidSearch as exc:
                    raise ValueError(exc.message.partition(": ")[2]) from None
                item = {"field": f.field, "level": f.level, "ranges": list(f.ranges), "size": f.size}
            out.append(item)
        return out


class StageScoresOut(BaseModel):
    dense: float | None
    bm25: float | None
    fused: float
    rerank: float | None


class HitOut(BaseModel):
    rank: int
    sku: str
    title: str
    brand: str
    category: str
    price: float
    currency: str
    in_stock: bool
    score: float
    scores: StageScoresOut
    group_id: str
    variant_count: int = Field(description="grouped searches: the group's variants in the result set (else 0)")
    variant_skus: list[str] | None = Field(None, description="grouped searches: those variants, best first")


class FacetValueOut(BaseModel):
    value: str
    count: int
    from_: float | None = Field(None, alias="from", description="price buckets: [from, to)")
    to: float | None = None


class ResultSetOut(BaseModel):
    depth: int
    products: int
    size: int
    offset: int
    sort: str
    group_by: str
    description: str
    facets_own_filter_removed: list[str]


class SearchOut(BaseModel):
    hits: list[HitOut]
    facets: dict[str, list[FacetValueOut]]
    next_page_token: str
    result_set: ResultSetOut | None = None
    degraded: bool
    degraded_reason: str
    timings_ms: dict[str, float]
    models: dict[str, str]
    request_id: str
    corrected_query: str


class RerankIn(_Strict):
    query: str
    documents: list[str] = Field(description="1 to 1000 texts")
    instruction: str | None = Field(None, description="overrides the server's reranker instruction")


class RerankedOut(BaseModel):
    rank: int
    index: int = Field(description="position in the request's documents")
    score: float
    document: str


class RerankOut(BaseModel):
    results: list[RerankedOut]
    model: str
    timings_ms: dict[str, float]


class StatusOut(BaseModel):
    address: str
    service: str = Field(description="the gRPC health status: SERVING, NOT_SERVING, UNREACHABLE, ...")
    serving: bool


class ErrorDetail(BaseModel):
    status: int
    code: str
    field: str | None = None
    message: str
    backend: str | None = None


class ErrorOut(BaseModel):
    error: ErrorDetail


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "invalid request: `error.field` names the field"},
    501: {"model": ErrorOut, "description": "the service has no reranker configured"},
    502: {"model": ErrorOut, "description": "the service failed otherwise (e.g. a permanent backend fault)"},
    503: {"model": ErrorOut, "description": "the service (`backend` null) or one of its backends is down"},
    504: {"model": ErrorOut, "description": "no answer within the deadline"},
}


# ---------------------------------------------------------------------------------------------------- the errors

def error_response(status: int, code: str, message: str, *, field: str | None = None,
                   backend: str | None = None) -> JSONResponse:
    body = ErrorOut(error=ErrorDetail(status=status, code=code, field=field, message=message, backend=backend))
    return JSONResponse(body.model_dump(), status_code=status)


def field_path(loc: Iterable[Any]) -> str:
    """``("body", "filters", "categories", 0, "path")`` -> ``"filters.categories[0].path"``."""
    out = ""
    for part in loc:
        if part == "body" and not out:
            continue
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
    first = exc.errors()[0]
    field = field_path(first.get("loc", ()))
    kind = first.get("type", "")
    reason = "unknown field" if kind == "extra_forbidden" else "body is not valid JSON" if kind == "json_invalid" \
        else str(first.get("msg", "invalid"))
    return error_response(400, "INVALID_ARGUMENT", f"{field}: {reason}", field=field)


def search_error_response(exc: SearchError) -> JSONResponse:
    """The client's errors as HTTP (see the module docstring)."""
    if isinstance(exc, InvalidSearch):
        field = exc.message.split(":", 1)[0].strip() if ":" in exc.message else None
        return error_response(400, "INVALID_ARGUMENT", exc.message, field=field)
    if isinstance(exc, SearchUnavailable):
        return error_response(503, "UNAVAILABLE", exc.message, backend=exc.backend)
    status = {grpc.StatusCode.UNAUTHENTICATED: 401, grpc.StatusCode.FAILED_PRECONDITION: 501,
              grpc.StatusCode.DEADLINE_EXCEEDED: 504, grpc.StatusCode.RESOURCE_EXHAUSTED: 429}.get(exc.code, 502)
    return error_response(status, exc.code.name, exc.message)


# ------------------------------------------------------------------------------------------------------- the app

def create_app(backend: SearchBackend, *, tokens: TokenTable | None = None) -> FastAPI:
    """The API and the page over ``backend`` (a ``SearchClient``; closing it is the caller's business); with
    ``tokens``, the API calls need one of them (``app.web.auth``)."""
    app = FastAPI(title="catalog-search HTTP API", version=API_VERSION,
                  description="Hybrid (dense + BM25) catalog search with reranking, over the retrieval gRPC service.",
                  docs_url=None, redoc_url=None)      # their pages load scripts from a CDN: the schema is enough
    app.add_exception_handler(RequestValidationError, _validation_error)   # type: ignore[arg-type]
    if tokens is not None:
        app.middleware("http")(token_checker(tokens))      # inside the headers below: refusals carry them too

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Any:
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        if request.url.path.startswith("/v1/"):
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.post("/v1/search", response_model=SearchOut, responses=ERRORS, summary="Hybrid search")
    def search(body: SearchIn, request: Request) -> Any:
        f = body.filters
        started = time.perf_counter()
        try:
            resp = backend.search(
                body.query, top_k=body.top_k,
                categories=[CategoryFilter(path=c.path, prefix=c.prefix) for c in f.categories], brands=f.brands,
                price_min=f.price_min, price_max=f.price_max, in_stock_only=f.in_stock_only,
                locale=f.locale or None, tenant=f.tenant or None, rerank=True if body.rerank is None else body.rerank,
                candidates=body.candidates or None, instruction=body.instruction, fusion=body.fusion or None,
                alpha=body.alpha, retrievers=body.retrievers or None, group_by=body.group_by or None,
                facets=[FacetRequest(field=f.field, level=f.level, ranges=tuple(f.ranges), size=f.size)
                        for f in body.facets],
                page_size=body.page_size, page_token=body.page_token, sort=body.sort or None,
                spell_correct=body.spell_correct, **relayed(request))
        except SearchError as exc:
            return search_error_response(exc)
        return _timed(response_to_dict(resp), started)

    @app.post("/v1/rerank", response_model=RerankOut, responses=ERRORS, summary="Score documents with the reranker")
    def rerank(body: RerankIn, request: Request) -> Any:
        started = time.perf_counter()
        try:
            resp = backend.rerank(body.query, body.documents, instruction=body.instruction, **relayed(request))
        except SearchError as exc:
            return search_error_response(exc)
        return _timed({"results": [{"rank": i, "index": r.index, "score": r.score, "document": r.document}
                                   for i, r in enumerate(resp.results, 1)],
                       "model": resp.model, "timings_ms": resp.timings_ms}, started)

    @app.get("/v1/status", response_model=StatusOut, responses={503: {"model": StatusOut}},
             summary="Is the retrieval service up")
    def status() -> Any:
        service = backend.health(timeout_s=2.0)
        body = StatusOut(address=backend.address, service=service, serving=service == "SERVING")
        return JSONResponse(body.model_dump(), status_code=200 if body.serving else 503)

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(static_dir() / "index.html", media_type="text/html; charset=utf-8")

    app.mount("/static", StaticFiles(directory=static_dir()), name="static")
    return app


def _timed(body: dict[str, Any], started: float) -> JSONResponse:
    """The body with a ``Server-Timing`` header: the service round trip as this process saw it."""
    ms = (time.perf_counter() - started) * 1000.0
    return JSONResponse(body, headers={"Server-Timing": f"service;dur={ms:.2f};desc=\"gRPC round trip\""})
