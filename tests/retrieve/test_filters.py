"""Request validation (pure); the Milvus expressions of valid filters are tested in tests/adapters/milvus."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from catalog_search.core import limits
from catalog_search.retrieve.domain import CategoryFilter, InvalidRequest, SearchFilters, SearchRequest
from catalog_search.retrieve.filters import QUERY_MAX_BYTES, validate_request

def _req(**kw: object) -> SearchRequest:
    filters = kw.pop("filters", SearchFilters())
    return SearchRequest(query=kw.pop("query", "shoes"), filters=filters, **kw)  # type: ignore[arg-type]


def test_a_plain_request_is_valid() -> None:
    validate_request(_req())


@pytest.mark.parametrize("kw, field", [
    ({"query": ""}, "query"), ({"query": "   "}, "query"), ({"query": "a" * (QUERY_MAX_BYTES + 1)}, "query"),
    ({"query": "é" * (QUERY_MAX_BYTES // 2 + 1)}, "query"), ({"query": "a\x00b"}, "query"),
    ({"query": "\ud800"}, "query"), ({"query": 5}, "query"),
    ({"top_k": 0}, "top_k"), ({"top_k": 101}, "top_k"), ({"top_k": True}, "top_k"), ({"top_k": 1.5}, "top_k"),
    ({"candidates": 0}, "candidates"), ({"candidates": 1001}, "candidates"),
    ({"instruction": ""}, "instruction"), ({"instruction": "a\x07"}, "instruction"),
    ({"fusion": "max"}, "fusion"), ({"alpha": 1.5}, "alpha"), ({"alpha": math.nan}, "alpha"),
    ({"rerank": "yes"}, "rerank"),
    ({"filters": SearchFilters(price_min=10, price_max=5)}, "filters.price_min"),
    ({"filters": SearchFilters(price_min=-1)}, "filters.price_min"),
    ({"filters": SearchFilters(price_max=math.nan)}, "filters.price_max"),
    ({"filters": SearchFilters(price_max=math.inf)}, "filters.price_max"),
    ({"filters": SearchFilters(price_min="3")}, "filters.price_min"),
    ({"filters": SearchFilters(brands=("",))}, "filters.brands[0]"),
    ({"filters": SearchFilters(brands=("ok", "b\nad"))}, "filters.brands[1]"),
    ({"filters": SearchFilters(brands=("x" * (limits.BRAND_MAX_BYTES + 1),))}, "filters.brands[0]"),
    ({"filters": SearchFilters(brands=tuple(f"b{i}" for i in range(65)))}, "filters.brands"),
    ({"filters": SearchFilters(brands="Apple")}, "filters.brands"),
    ({"filters": SearchFilters(categories=(CategoryFilter(" "),))}, "filters.categories[0].path"),
    ({"filters": SearchFilters(categories=(CategoryFilter(" > > "),))}, "filters.categories[0].path"),
    ({"filters": SearchFilters(categories=(CategoryFilter(" > ".join("a" * 9)),))}, "filters.categories[0].path"),
    ({"filters": SearchFilters(categories=(CategoryFilter("A\x1b[0m"),))}, "filters.categories[0].path"),
    ({"filters": SearchFilters(categories=(CategoryFilter("A", prefix=None),))},  # type: ignore[arg-type]
     "filters.categories[0].prefix"),
    ({"filters": SearchFilters(locale="")}, "filters.locale"),
    ({"filters": SearchFilters(locale="x" * 33)}, "filters.locale"),
    ({"filters": SearchFilters(tenant="\u2028")}, "filters.tenant"),
    ({"filters": SearchFilters(tenant="t" * 65)}, "filters.tenant"),
    ({"filters": SearchFilters(in_stock_only=1)}, "filters.in_stock_only"),  # type: ignore[arg-type]
    ({"filters": None}, "filters"),
])
def test_invalid_requests_name_the_field(kw: dict, field: str) -> None:
    with pytest.raises(InvalidRequest) as err:
        validate_request(_req(**kw))
    assert err.value.field == field
    assert str(err.value).startswith(f"{field}: ")


def test_limits_are_inclusive() -> None:
    validate_request(_req(top_k=1, candidates=1, alpha=0.0))
    validate_request(_req(top_k=100, candidates=1000, alpha=1, query="a" * QUERY_MAX_BYTES, instruction="Do\nit"))
    validate_request(_req(filters=SearchFilters(price_min=0, price_max=0, locale="zh-CN", tenant="outlet")))


def test_request_fields_are_not_mutated_by_validation() -> None:
    req = _req(filters=SearchFilters(brands=("a",)))
    validate_request(req)
    assert req == replace(req)
