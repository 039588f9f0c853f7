"""Stored hits for the pure result-shaping tests (grouping, facets, sorting, paging)."""

from __future__ import annotations

from typing import Any

from catalog_search.core.store import StoredHit
from catalog_search.retrieve.domain import Hit, StageScores


def row(sku: str, **kw: Any) -> StoredHit:
    fields: dict[str, Any] = {"title": f"title {sku}", "brand": "Acme", "category": "Misc", "price": 10.0,
                              "currency": "EUR", "in_stock": True, "embed_text": sku, "group_id": sku,
                              "locale": "en-US", "version": 1, "updated_at_ms": 0}
    fields.update(kw)
    return StoredHit(sku=sku, **fields)


def item(stored: StoredHit, score: float) -> tuple[Hit, StoredHit]:
    hit = Hit(sku=stored.sku, title=stored.title, brand=stored.brand, category=stored.category, price=stored.price,
              currency=stored.currency, in_stock=stored.in_stock, score=score,
              scores=StageScores(fused=score))
    return hit, stored


def items(*rows: StoredHit) -> list[tuple[Hit, StoredHit]]:
    """Items in the given (relevance) order, scores descending."""
    return [item(r, 1.0 - i / 100) for i, r in enumerate(rows)]
