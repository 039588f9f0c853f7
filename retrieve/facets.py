"""Facet counts (pure): how many result units carry each brand, category, price bucket, stock state or locale.

What is counted: the *result set* of the request (``retrieve.results``: the best fused candidates matching the
filters, cut at the result depth), as units — groups when the request groups variants (a group counts once for
every value any of its variants has), else products. A facet whose own filter is set in the request (a brand facet
while ``filters.brands`` selects Sony) is counted over the result set of the same request *without that filter*
(``without_own_filter``), so a storefront still shows the other brands' counts; the searcher retrieves that set
separately (one more dense + BM25 retrieval per such facet, no rerank: counting needs membership, not order).

Values: ``brand`` as stored (empty brands are not counted); ``category`` the normalised path prefix at the
requested level ("Apparel > Men" at level 2: usable as a category filter as it is; products with fewer levels are
not counted); ``price`` buckets ``[low, high)`` between ascending edges, the first from 0 and the last open
("0-25", "25-50", ..., "1000+"); ``in_stock`` "true"/"false"; ``locale`` as stored (empty not counted).
Order: price buckets ascending; the others by count (descending), then value; at most ``size`` values.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Iterable, Sequence

from catalog_search.core.filters import SearchFilters
from catalog_search.core.product import category_levels
from catalog_search.core.store import StoredHit
from catalog_search.retrieve.domain import Facet, FacetRequest, FacetValue

FACET_FIELDS = ("brand", "category", "price", "in_stock", "locale")
DEFAULT_PRICE_EDGES: tuple[float, ...] = (25.0, 50.0, 100.0, 250.0, 500.0, 1000.0)
MAX_PRICE_EDGES = 32
MAX_FACETS = 8
MAX_FACET_SIZE = 100


def _num(value: float) -> str:
    return str(int(value)) if value == int(value) and abs(value) < 1e15 else repr(float(value))


def price_buckets(edges: Sequence[float]) -> list[tuple[str, float, float | None]]:
    """``(label, low, high)`` of every bucket: [0, e0), [e0, e1), ..., [e_last, ∞); no empty [0, 0) bucket."""
    edges = tuple(edges) or DEFAULT_PRICE_EDGES
    bounds = ([0.0] if edges[0] > 0 else []) + [float(e) for e in edges]
    out: list[tuple[str, float, float | None]] = []
    for low, high in zip(bounds, bounds[1:]):
        out.append((f"{_num(low)}-{_num(high)}", low, high))
    out.append((f"{_num(bounds[-1])}+", bounds[-1], None))
    return out


def _bucket(price: float, buckets: list[tuple[str, float, float | None]]) -> str | None:
    for label, low, high in buckets:
        if price >= low and (high is None or price < high):
            return label
    return None


def values_of(spec: FacetRequest, row: StoredHit, buckets: list[tuple[str, float, float | None]] | None = None
              ) -> str | None:
    """The facet value of one product (None: not counted for this facet)."""
    if spec.field == "brand":
        return row.brand or None
    if spec.field == "category":
        levels = category_levels(row.category)
        return levels[spec.level - 1] if len(levels) >= spec.level else None
    if spec.field == "price":
        return _bucket(float(row.price), buckets if buckets is not None else price_buckets(spec.ranges))
    if spec.field == "in_stock":
        return "true" if row.in_stock else "false"
    if spec.field == "locale":
        return row.locale or None
    raise ValueError(f"unknown facet field {spec.field!r}; expected one of {', '.join(FACET_FIELDS)}")


def count(spec: FacetRequest, units: Sequence[Iterable[StoredHit]], *, own_filter_removed: bool = False) -> Facet:
    """The facet over ``units`` (each a group's variants, or one product): a unit counts once per value."""
    buckets = price_buckets(spec.ranges) if spec.field == "price" else None
    counts: Counter[str] = Counter()
    for unit in units:
        seen = {values_of(spec, row, buckets) for row in unit}
        seen.discard(None)
        counts.update(seen)  # type: ignore[arg-type]
    if buckets is not None:
        values = tuple(FacetValue(label, counts[label], low, high) for label, low, high in buckets if counts[label])
    else:
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[: spec.size]
        values = tuple(FacetValue(value, n) for value, n in ranked)
    return Facet(field=spec.field, level=spec.level, values=values, counted=len(units),
                 own_filter_removed=own_filter_removed)


def without_own_filter(filters: SearchFilters, field: str) -> SearchFilters | None:
    """``filters`` without the one that selects on ``field`` (brands for ``brand``, ...); None when no such filter
    is set (the facet is then counted over the request's own result set)."""
    if field == "brand" and filters.brands:
        return dataclasses.replace(filters, brands=())
    if field == "category" and filters.categories:
        return dataclasses.replace(filters, categories=())
    if field == "price" and (filters.price_min is not None or filters.price_max is not None):
        return dataclasses.replace(filters, price_min=None, price_max=None)
    if field == "in_stock" and filters.in_stock_only:
        return dataclasses.replace(filters, in_stock_only=False)
    if field == "locale" and filters.locale is not None:
        return dataclasses.replace(filters, locale=None)
    return None


def check_edges(edges: Sequence[float]) -> str | None:
    """Why price edges are unusable (None: fine): finite, >= 0, strictly ascending, at most MAX_PRICE_EDGES."""
    if len(edges) > MAX_PRICE_EDGES:
        return f"has {len(edges)} edges, at most {MAX_PRICE_EDGES} allowed"
    for i, edge in enumerate(edges):
        if isinstance(edge, bool) or not isinstance(edge, (int, float)) or not math.isfinite(edge) or edge < 0:
            return f"edge {i} must be a finite number >= 0, got {edge!r}"
        if i and not edge > edges[i - 1]:
            return f"edges must be strictly ascending ({edges[i - 1]!r} then {edge!r})"
    return None
