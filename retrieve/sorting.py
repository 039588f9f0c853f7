"""Non-relevance sorts of the result set (pure): ``price_asc``, ``price_desc``, ``newest``.

A sort orders the *result set* (``retrieve.results``: the most relevant products of the query, cut at the result
depth), never the whole catalog: a cheap product that is not among the relevant ones does not jump to the top.
``relevance`` keeps the order it is given (fused, the head reranked). Every other order is total, ties broken by
the sku, and depends only on stored values, so it is the same on every page request whatever the reranker did:

* ``price_asc``  — (price, sku)
* ``price_desc`` — (-price, sku)
* ``newest``     — (-updated_at_ms, -version, sku): ``updated_at_ms`` is when ingestion last wrote the row (a price
  patch counts as an update), the version breaks ties between rows written in the same millisecond.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from catalog_search.core.store import StoredHit

SORTS = ("relevance", "price_asc", "price_desc", "newest")
T = TypeVar("T")


def sort_key(sort: str, row: StoredHit) -> tuple[Any, ...] | None:
    """The ascending order key of ``row`` under ``sort``; None for ``relevance`` (the order given is the order)."""
    if sort == "relevance":
        return None
    if sort == "price_asc":
        return (float(row.price), row.sku)
    if sort == "price_desc":
        return (-float(row.price), row.sku)
    if sort == "newest":
        return (-int(row.updated_at_ms), -int(row.version), row.sku)
    raise ValueError(f"unknown sort {sort!r}; expected one of {', '.join(SORTS)}")


def order(items: Sequence[T], sort: str, row: Callable[[T], StoredHit]) -> list[T]:
    """``items`` in ``sort`` order (``relevance``: as given)."""
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}; expected one of {', '.join(SORTS)}")
    if sort == "relevance":
        return list(items)
    return sorted(items, key=lambda item: sort_key(sort, row(item)))  # type: ignore[arg-type, return-value]
