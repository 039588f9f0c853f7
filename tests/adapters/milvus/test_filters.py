"""The Milvus filter expression of ``SearchFilters`` (pure): escaped literals, normalised categories."""

from __future__ import annotations

import json

import pytest

from catalog_search.adapters.milvus.filters import build_filter
from catalog_search.core.filters import CategoryFilter, SearchFilters
from catalog_search.retrieve.domain import SearchRequest
from catalog_search.retrieve.filters import validate_request

INJECTION = 'x" or deleted == true or "'


def _req(filters: SearchFilters) -> SearchRequest:
    return SearchRequest(query="shoes", filters=filters)


def test_no_filter_excludes_only_tombstones() -> None:
    assert build_filter(SearchFilters()) == ("deleted == false", {})


def test_every_filter_kind() -> None:
    f = SearchFilters(categories=(CategoryFilter("Apparel > Men"), CategoryFilter("服装>男装> T恤", prefix=False)),
                      brands=("Uniqlo", "Apple", "Uniqlo"), price_min=10, price_max=99.5, in_stock_only=True,
                      locale="en-US", tenant="default")
    expr, params = build_filter(f)
    assert params == {}
    assert expr == ('deleted == false and tenant == "default" and locale == "en-US" and brand in ["Uniqlo", "Apple"]'
                    ' and (array_contains(category_levels, "Apparel > Men") or '
                    '(array_contains(category_levels, "服装 > 男装 > T恤") and array_length(category_levels) == 3))'
                    ' and price >= 10.0 and price <= 99.5 and in_stock == true')


def test_templated_form_binds_every_value() -> None:
    f = SearchFilters(categories=(CategoryFilter("A > B", prefix=False),), brands=(INJECTION,), price_min=1,
                      locale="en-US", tenant="t")
    expr, params = build_filter(f, templated=True)
    assert INJECTION not in expr and '"' not in expr
    assert expr == ("deleted == false and tenant == {p0} and locale == {p1} and brand in {p2} and "
                    "((array_contains(category_levels, {p3}) and array_length(category_levels) == {p4})) and "
                    "price >= {p5}")
    assert params == {"p0": "t", "p1": "en-US", "p2": [INJECTION], "p3": "A > B", "p4": 2, "p5": 1.0}


@pytest.mark.parametrize("value", [INJECTION, 'a\\" or true or \\"', "a' or '1'=='1", 'x"]) or (["', "\\", '"'])
def test_strings_are_escaped_literals(value: str) -> None:
    fields = [SearchFilters(brands=(value,)), SearchFilters(locale=value), SearchFilters(tenant=value),
              SearchFilters(categories=(CategoryFilter(value),))]
    for f in fields:
        validate_request(_req(f))
        expr, _ = build_filter(f)
        # the value occurs only inside one double-quoted literal: no unescaped quote can close it early
        body = expr.split(" and ", 1)[1]
        literal = body[body.index('"'):body.rindex('"') + 1]
        assert json.loads(literal) == value.strip() if f.categories else json.loads(literal) == value


def test_exact_and_prefix_categories_are_normalised() -> None:
    expr, _ = build_filter(SearchFilters(categories=(CategoryFilter("  Apparel>Men ", prefix=True),)))
    assert expr.endswith('(array_contains(category_levels, "Apparel > Men"))')
    same = SearchFilters(categories=(CategoryFilter("A > B"), CategoryFilter("A>B")))
    assert build_filter(same)[0].count("array_contains") == 1
