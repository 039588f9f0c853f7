"""Sorts of the result set (pure): total orders on stored values, ties broken by the sku."""

from __future__ import annotations

import pytest

from catalog_search.retrieve.sorting import order, sort_key
from tests.retrieve.rows import row

ROWS = [row("d", price=5.0, updated_at_ms=30, version=2), row("b", price=20.0, updated_at_ms=10, version=9),
        row("a", price=20.0, updated_at_ms=30, version=3), row("c", price=1.5, updated_at_ms=30, version=3)]


def _skus(sort: str) -> list[str]:
    return [r.sku for r in order(ROWS, sort, row=lambda r: r)]


def test_relevance_keeps_the_given_order() -> None:
    assert _skus("relevance") == ["d", "b", "a", "c"]
    assert sort_key("relevance", ROWS[0]) is None


def test_price_sorts_break_ties_by_sku_in_both_directions() -> None:
    assert _skus("price_asc") == ["c", "d", "a", "b"]
    assert _skus("price_desc") == ["a", "b", "d", "c"]       # a and b both 20.0: sku ascending either way


def test_newest_is_the_latest_write_then_the_higher_version_then_the_sku() -> None:
    assert _skus("newest") == ["a", "c", "d", "b"]             # a/c: same time and version -> sku; d: version 2


def test_keys_increase_along_the_order_and_unknown_sorts_fail() -> None:
    for sort in ("price_asc", "price_desc", "newest"):
        keys = [sort_key(sort, r) for r in order(ROWS, sort, row=lambda r: r)]
        assert keys == sorted(keys) and len(set(keys)) == len(keys)
    with pytest.raises(ValueError):
        order(ROWS, "cheapest", row=lambda r: r)
    with pytest.raises(ValueError):
        sort_key("cheapest", ROWS[0])
