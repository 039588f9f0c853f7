"""The one protocol every vector store implements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from catalog_search.core.product import Product


@dataclass(frozen=True)
class StoreCounts:
    live: int
    tombstoned: int


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
