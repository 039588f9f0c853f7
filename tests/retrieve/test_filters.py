"""Request validation (pure); the Milvus expressions of valid filters are tested in tests/adapters/milvus."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from catalog_search.core import limits
from catalog_search.retrieve.domain import CategoryFilter, FacetRequest, InvalidRequest, SearchFilters, SearchRequest
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
    ({"sort": "cheapest"}, "sort"), ({"sort": ""}, "sort"), ({"group_by": "brand"}, "group_by"),
    ({"group_by": ""}, "group_by"), ({"page_size": 101}, "page_size"), ({"page_size": -1}, "page_size"),
    ({"page_token": "t" * 1025}, "page_token"), ({"retrievers": "sparse"}, "retrievers"),
    ({"facets": (FacetRequest("colour"),)}, "facets[0].field"),
    ({"facets": (FacetRequest("brand"), FacetRequest("brand"))}, "facets[1].field"),
    ({"facets": (FacetRequest("category", level=0),)}, "facets[0].level"),
    ({"facets": (FacetRequest("category", level=limits.CATEGORY_MAX_LEVELS + 1),)}, "facets[0].level"),
    ({"facets": (FacetRequest("brand", level=2),)}, "facets[0].level"),
    ({"facets": (FacetRequest("brand", ranges=(1.0,)),)}, "facets[0].ranges"),
    ({"facets": (FacetRequest("price", ranges=(50.0, 25.0)),)}, "facets[0].ranges"),
    ({"facets": (FacetRequest("price", ranges=(10.0, 10.0)),)}, "facets[0].ranges"),
    ({"facets": (FacetRequest("price", ranges=(-1.0,)),)}, "facets[0].ranges"),
    ({"facets": (FacetRequest("price", ranges=(math.inf,)),)}, "facets[0].ranges"),
    ({"facets": (FacetRequest("price", ranges=tuple(float(i) for i in range(1, 34))),)}, "facets[0].ranges"),
    ({"facets": (FacetRequest("locale", size=0),)}, "facets[0].size"),
    ({"facets": (FacetRequest("locale", size=101),)}, "facets[0].size"),
    ({"facets": tuple(FacetRequest("category", level=i) for i in range(1, 9)) + (FacetRequest("brand"),)},
     "facets"),
    ({"facets": ("brand",)}, "facets[0]"),
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


def test_grouping_facets_pages_and_sorts_within_their_limits_are_valid() -> None:
    validate_request(_req(group_by="group_id", sort="newest", page_size=100, page_token="x" * 1024,
                          facets=(FacetRequest("brand", size=100), FacetRequest("category"),
                                  FacetRequest("category", level=limits.CATEGORY_MAX_LEVELS),
                                  FacetRequest("price", ranges=(0.0, 9.99, 10.0)), FacetRequest("in_stock"),
                                  FacetRequest("locale", size=1))))
    for sort in ("relevance", "price_asc", "price_desc", "newest"):
        validate_request(_req(sort=sort, retrievers="bm25", fusion="rrf"))


def test_request_fields_are_not_mutated_by_validation() -> None:
    req = _req(filters=SearchFilters(brands=("a",)))
    validate_request(req)
    assert req == replace(req)
