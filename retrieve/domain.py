"""Retrieval domain types (pure data): what a search asks for and what it answers, independent of gRPC.

The filters live in ``core.filters`` (stores evaluate them) and are re-exported here for callers of the searcher.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from catalog_search.core.filters import CategoryFilter, SearchFilters

__all__ = ["CategoryFilter", "Facet", "FacetRequest", "FacetValue", "Fusion", "Hit", "InvalidRequest",
           "MAX_CANDIDATES", "MAX_TOP_K", "MAX_VARIANT_SKUS", "ResultSet", "Retrievers", "SearchFilters",
           "SearchRequest", "SearchResponse", "Sort", "StageScores"]

MAX_TOP_K = 100
MAX_CANDIDATES = 1000
MAX_VARIANT_SKUS = 10                       # variant skus a grouped hit lists (variant_count counts them all)
DEFAULT_FACET_SIZE = 10
Fusion = Literal["rrf", "weighted"]
Retrievers = Literal["both", "dense", "bm25"]
Sort = Literal["relevance", "price_asc", "price_desc", "newest"]


@dataclass(frozen=True)
class FacetRequest:
    """One facet to count: ``brand``, ``category`` (the path prefix at ``level``, 1 = top level), ``price``
    (buckets between the ascending ``ranges`` edges; none = ``facets.DEFAULT_PRICE_EDGES``), ``in_stock``,
    ``locale``. At most ``size`` values come back (the most frequent; price: every non-empty bucket)."""

    field: str
    level: int = 1
    ranges: tuple[float, ...] = ()
    size: int = DEFAULT_FACET_SIZE

    @property
    def name(self) -> str:
        """How the facet is named in answers: the field, ``category:N`` for a category level other than 1."""
        return f"{self.field}:{self.level}" if self.field == "category" and self.level != 1 else self.field


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
    group_by: str | None = None             # "group_id": one hit per variant group (the best variant)
    facets: tuple[FacetRequest, ...] = ()   # counts over the result set (see ``ResultSet``)
    page_size: int = 0                      # > 0: pages of this many hits (top_k is then ignored)
    page_token: str = ""                    # the previous page's ``next_page_token``
    sort: Sort = "relevance"                # other sorts order the result set (the relevant products)
    spell_correct: bool | None = None       # correct misspelled terms on the BM25 side; None: CATALOG_SPELL_ENABLED

    @property
    def paged(self) -> bool:
        return self.page_size > 0 or bool(self.page_token)

    @property
    def shaped(self) -> bool:
        """Whether the answer is cut from the deep result set (grouping, facets, pages or a sort), not the head."""
        return bool(self.group_by or self.facets or self.paged or self.sort != "relevance")


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
    group_id: str = ""                      # the variant group ("" when the store holds none)
    variant_count: int = 0                  # grouped answers: the group's variants in the result set (else 0)
    variant_skus: tuple[str, ...] = ()      # grouped answers: those variants, best first, at most MAX_VARIANT_SKUS


@dataclass(frozen=True)
class FacetValue:
    value: str                              # brand, category path, "true"/"false", locale, or a price bucket "25-50"
    count: int                              # result units (groups when grouped, else products) having it
    low: float | None = None                # price buckets: [low, high); high None = no upper bound
    high: float | None = None


@dataclass(frozen=True)
class Facet:
    field: str
    level: int
    values: tuple[FacetValue, ...]
    counted: int                            # result units the counts are over
    own_filter_removed: bool = False        # counted over the result set of the request without this facet's filter

    @property
    def name(self) -> str:
        return FacetRequest(self.field, self.level).name


@dataclass(frozen=True)
class ResultSet:
    """What pages, facets and sorts cover: the ``depth`` best fused candidates matching the filters (the head
    reranked), as ``size`` units (groups when grouped, else products); the page starts at ``offset``."""

    depth: int
    products: int
    size: int
    offset: int
    sort: str
    group_by: str
    description: str


@dataclass(frozen=True)
class SearchResponse:
    hits: list[Hit]
    degraded: bool = False
    degraded_reason: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict)   # stage -> milliseconds (embed, dense, bm25, ...)
    models: dict[str, str] = field(default_factory=dict)         # role -> model id (embedding, reranker)
    facets: tuple[Facet, ...] = ()
    next_page_token: str = ""                                    # "" = no further page (or not paged)
    result_set: ResultSet | None = None                          # set for grouped/faceted/paged/sorted requests
    request_id: str = ""                    # this search's id (also the query-log record's key)
    corrected_query: str = ""               # the query the BM25 side searched, when spelling changed it; else ""


class InvalidRequest(ValueError):
    """A request field is invalid; ``field`` names it (mapped to gRPC INVALID_ARGUMENT)."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
