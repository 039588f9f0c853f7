"""Retrieval domain types (pure data): what a search asks for and what it answers, independent of gRPC.

The filters live in ``core.filters`` (stores evaluate them) and are re-exported here for callers of the searcher.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from catalog_search.core.filters import CategoryFilter, SearchFilters

__all__ = ["CategoryFilter", "Fusion", "Hit", "InvalidRequest", "MAX_CANDIDATES", "MAX_TOP_K", "Retrievers",
           "SearchFilters", "SearchRequest", "SearchResponse", "StageScores"]

MAX_TOP_K = 100
MAX_CANDIDATES = 1000
Fusion = Literal["rrf", "weighted"]
Retrievers = Literal["both", "dense", "bm25"]


@dataclass(frozen=True)
class SearchRequest:
    query: str
    top_k: int = 10
    filters: SearchFilters = field(default_factory=SearchFilters)
    rerank: bool = True
    candidates: int = 100                   # fused candidates handed to the reranker
    instruction: str | None = None          # overrides CATALOG_QUERY_INSTRUCTION for this request
    fusion: Fusion | None = None            # None: the server's CATALOG_SEARCH_FUSION
    alpha: float | None = None              # weighted fusion: weight of the dense side (0..1); None: the server's
    retrievers: Retrievers = "both"         # "dense" / "bm25": that list alone, in its own order (evaluation)


@dataclass(frozen=True)
class StageScores:
    dense: float | None = None              # cosine similarity, if the dense search found the product
    bm25: float | None = None               # BM25 score, if the sparse search found it
    fused: float = 0.0
    rerank: float | None = None             # P(yes) of the reranker, if it ran


@dataclass(frozen=True)
class Hit:
    sku: str
    title: str
    brand: str
    category: str
    price: float
    currency: str
    in_stock: bool
    score: float                            # the final ordering score (rerank if it ran, else fused)
    scores: StageScores


@dataclass(frozen=True)
class SearchResponse:
    hits: list[Hit]
    degraded: bool = False
    degraded_reason: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict)   # stage -> milliseconds (embed, dense, bm25, ...)
    models: dict[str, str] = field(default_factory=dict)         # role -> model id (embedding, reranker)


class InvalidRequest(ValueError):
    """A request field is invalid; ``field`` names it (mapped to gRPC INVALID_ARGUMENT)."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
