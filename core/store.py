"""The store protocols: ``VectorStore`` (ingest writes), ``SearchStore`` (the searcher reads), ``CatalogStore``
(a reindex reads a whole collection and moves the alias), and the factory a reindex gets its stores from.

Pipelines name only these; the Milvus adapter (``adapters.milvus.store.MilvusStore``) implements all three, an
in-memory store does in unit tests, and one contract suite holds both to the same assertions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from catalog_search.core.filters import SearchFilters
from catalog_search.core.product import Product

if TYPE_CHECKING:
    from catalog_search.core.settings import Settings

Ranked = list[tuple[str, float]]          # (sku, score), best first


@dataclass(frozen=True)
class StoreCounts:
    live: int
    tombstoned: int


@dataclass(frozen=True)
class StoredHit:
    """What a search shows of a product (display fields) plus the ``embed_text`` the reranker reads (None when
    the call was told no reranker will read it)."""

    sku: str
    title: str
    brand: str
    category: str
    price: float
    currency: str
    in_stock: bool
    embed_text: str | None
    # what grouping, facets and sorts read (defaults: a store that does not hold them)
    group_id: str = ""                    # the variant group; "" in a collection older than the field
    locale: str = ""
    version: int = 0
    updated_at_ms: int = 0


@dataclass(frozen=True)
class Retrieved:
    """Both retrievers' answers to one search: each ranked list with its own scores (the stage scores a hit
    carries), the hit fields of every product in either list, and how long each retriever took (ms)."""

    dense: Ranked
    bm25: Ranked
    hits: dict[str, StoredHit]
    timings_ms: dict[str, float]


@runtime_checkable
class VectorStore(Protocol):
    """Durable product rows with a dense vector, a BM25 sparse field and scalar fields.

    Writes are idempotent upserts of whole rows keyed by sku (tombstones are rows with ``deleted=True``).
    ``upsert`` returns only once the rows are durable and visible to ``fetch``. Errors are raised as
    ``catalog.errors.StoreError`` (``retriable`` set); stores never retry themselves.
    """

    def ensure_collection(self) -> None:
        """Create the collection, its indexes and the search alias if missing (idempotent); load it."""
        ...

    def fetch(self, skus: Sequence[str]) -> dict[str, Product]:
        """Stored rows (live or tombstoned) for these skus, vectors included; unknown skus are absent."""
        ...

    def upsert(self, products: Sequence[Product]) -> None:
        """Write whole rows. Every product has a vector of the collection's dim (tombstones may carry zeros)."""
        ...

    def counts(self) -> StoreCounts: ...

    def close(self) -> None: ...


@runtime_checkable
class SearchStore(Protocol):
    """What one search reads, each a separate call on a named collection (the one behind ``alias``).

    ``filters`` are validated ``SearchFilters`` (semantics in ``core.filters``); tombstones never match. Every call
    makes one attempt bounded by ``timeout`` seconds and raises ``StoreError`` (``retriable`` set).
    ``max_limit`` bounds every ``limit`` (larger ones are cut to it).
    """

    alias: str
    timeout_s: float
    max_limit: int

    def resolve_alias(self, alias: str | None = None, *, timeout: float | None = None) -> str:
        """The collection behind ``alias`` (default: ours); a missing alias is a non-retriable ``StoreError``.
        ``timeout``: at most this long (a search's time left); None = the store's own timeout."""
        ...

    def count_matching(self, collection: str, filters: SearchFilters, *, timeout: float) -> int: ...

    def dense_search(self, collection: str, filters: SearchFilters, vector: np.ndarray, *, limit: int,
                     timeout: float) -> Ranked:
        """Approximate nearest neighbours by cosine similarity (higher = closer)."""
        ...

    def bm25_search(self, collection: str, filters: SearchFilters, text: str, *, limit: int,
                    timeout: float) -> Ranked:
        """BM25 over each product's ``embed_text``; only products sharing a term with ``text`` are returned."""
        ...

    def retrieve(self, collection: str, filters: SearchFilters, *, vector: np.ndarray | None, text: str | None,
                 limit: int, with_text: bool, timeout: float) -> Retrieved:
        """``dense_search(vector)`` and ``bm25_search(text)`` (each skipped when its input is None) with the hit
        fields of every product found, ``embed_text`` included when ``with_text``: what one search reads, in as
        few round trips as the backend allows (concurrently where that is faster). One snapshot per retriever, so a
        product deleted before the search never appears; ``timeout`` bounds the whole call."""
        ...

    def exact_scan(self, collection: str, filters: SearchFilters, *, limit: int,
                   timeout: float) -> tuple[list[str], np.ndarray]:
        """Every matching sku (at most ``limit``) with its dense vector, as rows of one float32 matrix (0x0: none)."""
        ...

    def dense_is_exact(self, collection: str) -> bool:
        """Whether ``dense_search`` on ``collection`` scores every matching row exactly (a brute-force index such as
        FLAT): then a selective filter needs no ``exact_scan``; False when unknown (the exact scan stays)."""
        ...

    def hydrate(self, collection: str, filters: SearchFilters, skus: Sequence[str], *,
                timeout: float) -> dict[str, StoredHit]:
        """The hits of those ``skus`` that still match ``filters`` (a product deleted meanwhile is absent); the exact
        path's dense results come without hit fields and are completed here."""
        ...


@runtime_checkable
class CatalogStore(VectorStore, Protocol):
    """A ``VectorStore`` that can also read other collections whole and move the alias (what a reindex needs)."""

    alias: str

    def alias_target(self, alias: str | None = None) -> str | None: ...

    def set_alias(self, alias: str, collection: str) -> None: ...

    def drop_alias(self, alias: str | None = None) -> None: ...

    def drop_collection(self, name: str | None = None) -> None: ...

    def collection_exists(self, name: str) -> bool: ...

    def collection_dim(self, name: str) -> int | None:
        """The dense dim of an existing collection; None when it is not a catalog collection."""
        ...

    def iter_rows(self, name: str, *, page_rows: int = 1000) -> Iterator[list[Product]]:
        """Every row of ``name`` (live rows and tombstones, vectors included), a page at a time; not a snapshot."""
        ...


StoreFactory = Callable[["Settings"], CatalogStore]       # the app shell's way of opening the store of settings
