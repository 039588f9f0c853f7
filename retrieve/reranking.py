"""Rerank caller-supplied documents (the ``Rerank`` RPC): domain types, validation and the call of the rerank stage.

The documents are scored by the same ``RerankStage`` the searcher uses (its reranker, breaker, instruction and
deadline margin), so a reranker that is down for searches is down here too, and one failure count covers both.
Unlike a search, a rerank has no fallback order: a stage that degrades (no time left, timeout, outage, open
circuit) raises a retriable ``RerankError`` with the stage's reason, and a server with no reranker configured raises
``NoReranker``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from catalog_search.core import limits
from catalog_search.core.errors import CatalogError, RerankError
from catalog_search.rerank.stage import RerankOutcome
from catalog_search.retrieve.domain import MAX_CANDIDATES, InvalidRequest
from catalog_search.retrieve.filters import INSTRUCTION_MAX_BYTES, QUERY_MAX_BYTES
from catalog_search.retrieve.filters import _text as checked_text

MAX_DOCUMENTS = MAX_CANDIDATES                 # as many as one search may hand the reranker
DOCUMENT_MAX_BYTES = limits.EMBED_TEXT_MAX_BYTES   # what a search hands the reranker is an embedded text


@dataclass(frozen=True)
class RerankRequest:
    query: str
    documents: tuple[str, ...]
    instruction: str | None = None             # None: the stage's (CATALOG_RERANK_INSTRUCTION)


@dataclass(frozen=True)
class RerankedDocument:
    index: int                                 # position in the request's documents
    score: float
    document: str


@dataclass(frozen=True)
class RerankResponse:
    results: list[RerankedDocument]            # best first; ties keep the input order
    model: str
    timings_ms: dict[str, float] = field(default_factory=dict)


class NoReranker(CatalogError):
    """The server has no reranker configured (``CATALOG_RERANK_BACKEND=none``)."""


class Stage(Protocol):
    """What ``rerank.stage.RerankStage`` offers (the searcher's ``rerank_stage``)."""

    @property
    def model_id(self) -> str: ...

    def run(self, query: str, documents: list[str] | tuple[str, ...], *, instruction: str | None = None,
            time_left_s: float | None) -> RerankOutcome: ...


def validate_rerank_request(req: RerankRequest) -> None:
    """Raise ``InvalidRequest`` naming the field (``query``, ``documents``, ``documents[3]``, ``instruction``)."""
    checked_text("query", req.query, QUERY_MAX_BYTES, allow_newlines=True)
    docs = req.documents
    if isinstance(docs, (str, bytes)) or not isinstance(docs, (tuple, list)):
        raise InvalidRequest("documents", "must be a list of strings")
    if not docs:
        raise InvalidRequest("documents", "must not be empty")
    if len(docs) > MAX_DOCUMENTS:
        raise InvalidRequest("documents", f"has {len(docs)} documents, at most {MAX_DOCUMENTS} allowed")
    for i, doc in enumerate(docs):
        checked_text(f"documents[{i}]", doc, DOCUMENT_MAX_BYTES, allow_newlines=True)
    if req.instruction is not None:
        checked_text("instruction", req.instruction, INSTRUCTION_MAX_BYTES, allow_newlines=True)


class DocumentReranker:
    """Scores a ``RerankRequest`` with ``stage`` (None or a stage without a reranker: ``NoReranker``)."""

    def __init__(self, stage: Stage | None) -> None:
        self.stage = stage

    @property
    def configured(self) -> bool:
        return self.stage is not None and self.stage.model_id != "none"

    def rerank(self, req: RerankRequest, *, time_left_s: Callable[[], float | None] | None = None) -> RerankResponse:
        started = time.perf_counter()
        validate_rerank_request(req)
        stage = self.stage
        if stage is None or not self.configured:
            raise NoReranker("no reranker configured (CATALOG_RERANK_BACKEND=none)")
        t = time.perf_counter()
        left = None if time_left_s is None else time_left_s()
        outcome = stage.run(req.query, list(req.documents), instruction=req.instruction, time_left_s=left)
        if outcome.scores is None:
            raise RerankError(outcome.degraded_reason or "reranker did not run", retriable=True)
        done = time.perf_counter()
        order = sorted(range(len(outcome.scores)), key=lambda i: -outcome.scores[i])   # stable: input order on ties
        results = [RerankedDocument(index=i, score=float(outcome.scores[i]), document=req.documents[i])
                   for i in order]
        return RerankResponse(results=results, model=outcome.model_id,
                              timings_ms={"rerank": round((done - t) * 1000.0, 3),
                                          "total": round((time.perf_counter() - started) * 1000.0, 3)})
