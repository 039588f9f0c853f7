"""Shaping an answer from its result set (pure): grouping on the final order, sorts, facets, pages."""

from __future__ import annotations

from dataclasses import replace

from catalog_search.retrieve.domain import FacetRequest, SearchRequest
from catalog_search.retrieve.paging import PageTokens
from catalog_search.retrieve.results import shape
from tests.retrieve.rows import items, row

TOKENS = PageTokens("k")
# relevance order: the silver XM5 outranks the black one after rerank; three tees of one listing
RESULT = items(row("xm5-silver", group_id="XM5", brand="Sony", price=329.0),
               row("tee-navy", group_id="TEE", brand="Uniqlo", price=19.9),
               row("bose", brand="Bose", price=279.0),
               row("xm5-black", group_id="XM5", brand="Sony", price=349.0, in_stock=False),
               row("tee-white", group_id="TEE", brand="Uniqlo", price=14.9),
               row("tee-black", group_id="TEE", brand="Uniqlo", price=19.9),
               row("jbl", brand="JBL", price=99.0))


def _run(req: SearchRequest, **kw):
    return shape(req, RESULT, depth=200, tokens=TOKENS, cursor=None, **kw)


def test_grouping_keeps_the_best_variant_of_each_group_by_the_final_order() -> None:
    out = _run(SearchRequest(query="q", group_by="group_id"))
    assert [(h.sku, h.group_id, h.variant_count) for h in out.hits] == [
        ("xm5-silver", "XM5", 2), ("tee-navy", "TEE", 3), ("bose", "bose", 1), ("jbl", "jbl", 1)]
    assert out.hits[1].variant_skus == ("tee-navy", "tee-white", "tee-black")
    assert out.hits[0].score == RESULT[0][0].score                    # the variant's own final score
    rs = out.result_set
    assert (rs.depth, rs.products, rs.size, rs.offset, rs.group_by, rs.sort) == (200, 7, 4, 0, "group_id", "relevance")
    assert "4 variant groups" in rs.description and out.next_page_token == ""     # not paged: no token


def test_without_grouping_every_product_is_a_hit_carrying_its_group_id() -> None:
    out = _run(SearchRequest(query="q", top_k=3))
    assert [(h.sku, h.group_id, h.variant_count, h.variant_skus) for h in out.hits] == [
        ("xm5-silver", "XM5", 0, ()), ("tee-navy", "TEE", 0, ()), ("bose", "bose", 0, ())]
    assert out.result_set.size == 7


def test_a_sort_orders_the_result_set_and_a_group_shows_its_first_variant_in_that_order() -> None:
    asc = _run(SearchRequest(query="q", sort="price_asc", group_by="group_id"))
    assert [(h.sku, h.price) for h in asc.hits] == [("tee-white", 14.9), ("jbl", 99.0), ("bose", 279.0),
                                                    ("xm5-silver", 329.0)]
    assert asc.hits[0].variant_skus == ("tee-white", "tee-black", "tee-navy")   # price, then sku
    desc = _run(SearchRequest(query="q", sort="price_desc"))
    assert [h.sku for h in desc.hits] == ["xm5-black", "xm5-silver", "bose", "jbl", "tee-black", "tee-navy",
                                          "tee-white"]
    assert "ordered by price_desc" in desc.result_set.description


def test_walking_the_pages_returns_every_unit_once_in_order() -> None:
    for sort in ("relevance", "price_asc", "newest"):
        for grouped in ("group_id", None):
            req = SearchRequest(query="q", page_size=2, sort=sort, group_by=grouped)
            whole = [h.sku for h in _run(replace(req, page_size=100)).hits]
            seen, token, offsets = [], "", []
            while True:
                page = shape(replace(req, page_token=token), RESULT, depth=200, tokens=TOKENS,
                             cursor=TOKENS.decode(token, req) if token else None)
                seen += [h.sku for h in page.hits]
                offsets.append(page.result_set.offset)
                token = page.next_page_token
                if not token:
                    break
            assert seen == whole and len(set(seen)) == len(seen), (sort, grouped)
            assert offsets == list(range(0, len(whole), 2))


def test_facets_count_units_of_the_result_set_or_the_pool_without_their_own_filter() -> None:
    req = SearchRequest(query="q", group_by="group_id", facets=(FacetRequest("brand"), FacetRequest("in_stock")))
    pool = [row("a", brand="Sony"), row("b", brand="Sony"), row("c", brand="LG")]
    out = _run(req, facet_pools={"brand": pool})
    brand, stock = out.facets
    assert brand.own_filter_removed and [(v.value, v.count) for v in brand.values] == [("Sony", 2), ("LG", 1)]
    assert not stock.own_filter_removed and stock.counted == 4
    assert [(v.value, v.count) for v in stock.values] == [("true", 4), ("false", 1)]   # XM5 has both
