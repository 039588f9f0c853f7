"""What a search may restrict results to (pure data): the filter every ``SearchStore`` evaluates with one meaning.

Semantics, which every store implements the same way (the contract suite checks it): tombstones never match;
categories match on the normalised path (``product.category_levels``), ``prefix`` = that path or anything below it,
otherwise exactly that path, any of several; brands any of (exact); price range inclusive; ``in_stock_only``;
``locale`` and ``tenant`` exact. Values are literals, never expression syntax.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CategoryFilter:
    """A category path such as "Apparel > Men"; ``prefix`` matches it and everything below it."""

    path: str
    prefix: bool = True


@dataclass(frozen=True)
class SearchFilters:
    categories: tuple[CategoryFilter, ...] = ()     # any of
    brands: tuple[str, ...] = ()                    # any of
    price_min: float | None = None
    price_max: float | None = None
    in_stock_only: bool = False
    locale: str | None = None
    tenant: str | None = None
