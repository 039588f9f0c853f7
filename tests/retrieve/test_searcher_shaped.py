"""Grouped, faceted, paged and sorted searches through the real Searcher on the in-memory store: the shaped answer
equals what a brute-force pass over the same result set (walked page by page, ungrouped) says. The same on Milvus
Lite over gRPC: tests/retrieve/test_grpc_shaped.py."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

import pytest

from catalog_search.core.filters import SearchFilters
from catalog_search.core.product import Product, embed_text
from catalog_search.retrieve.domain import FacetRequest, InvalidRequest, SearchRequest
from catalog_search.retrieve.paging import PageTokens
from tests.retrieve.test_searcher_memory import DIM, WordReranker, WordsEmbedder, _searcher
from tests.support.memory_store import MemoryStore

CATALOG = [  # sku, group, title, brand, price, locale, in stock, updated_at_ms
    ("D-RED", "DRILL", "cordless drill red", "Acme", 50.0, "en-US", True, 5),
    ("D-BLUE", "DRILL", "cordless drill blue", "Acme", 45.0, "en-US", True, 9),
    ("D-GREEN", "DRILL", "cordless drill green", "Acme", 55.0, "en-US", False, 1),
    ("H1", "", "hammer drill", "Bosch", 80.0, "en-US", True, 7),
    ("B1", "", "drill bits set", "Bosch", 10.0, "de-DE", True, 3),
    ("B2", "BITS", "drill bits mini", "Bosch", 12.0, "de-DE", True, 2),
    ("B3", "BITS", "drill bits long", "Makita", 14.0, "de-DE", False, 4),
    ("K1", "", "coffee maker drip", "Acme", 30.0, "de-DE", True, 8),
    ("K2", "", "espresso coffee grinder", "Krups", 120.0, "en-US", False, 6),
]


def _store(approximate: bool = False) -> MemoryStore:
    store = MemoryStore(collection="live", alias="catalog", dim=DIM, approximate=approximate)
    store.ensure_collection()
    emb = WordsEmbedder()
    rows = []
    for sku, group, title, brand, price, locale, stock, updated in CATALOG:
        p = Product(sku=sku, version=1, title=title, brand=brand, category="Tools > Drills" if "drill" in title
                    else "Kitchen > Coffee", price=price, locale=locale, in_stock=stock, group_id=group,
                    updated_at_ms=updated, vector=emb.embed_documents([title])[0])
        rows.append(p.with_changes(embedded_text=embed_text(p)))
    store.upsert(rows)
    return store


def walk(searcher: Any, req: SearchRequest) -> list[Any]:
    """Every page of ``req`` (its page_size) from its page_token on, in order."""
    hits, token = [], req.page_token
    for _ in range(100):
        page = searcher.search(replace(req, page_token=token))
        hits += page.hits
        token = page.next_page_token
        if not token:
            return hits
    raise AssertionError("pages never end")


@pytest.mark.parametrize("approximate", [False, True])
def test_grouping_keeps_the_variant_the_reranker_put_first(approximate: bool) -> None:
    searcher = _searcher(_store(approximate), WordReranker("blue"), exact_threshold=100)
    req = SearchRequest(query="cordless drill", top_k=10, rerank=True, candidates=50)
    flat = walk(searcher, replace(req, page_size=3))
    assert flat[0].sku == "D-BLUE" and flat[0].scores.rerank == 1.0         # the reranker moved it to the top
    grouped = searcher.search(replace(req, group_by="group_id"))
    assert [h.sku for h in grouped.hits][0] == "D-BLUE"
    drill = grouped.hits[0]
    assert (drill.group_id, drill.variant_count) == ("DRILL", 3)
    assert drill.variant_skus == tuple(h.sku for h in flat if h.sku.startswith("D-"))  # best first, final order
    # brute force: each group is shown by its first product in the ungrouped final order, groups in that order
    first: dict[str, str] = {}
    for h in flat:
        first.setdefault(h.group_id, h.sku)
    assert [h.sku for h in grouped.hits] == list(first.values())
    assert grouped.result_set.size == len(first) and grouped.result_set.products == len(flat)
    assert f"the first {len(flat)} reranked" in grouped.result_set.description     # all 9 (< candidates)


def test_facet_counts_equal_a_brute_force_count_over_the_result_set() -> None:
    searcher = _searcher(_store())
    facets = (FacetRequest("brand"), FacetRequest("locale"), FacetRequest("in_stock"),
              FacetRequest("price", ranges=(20.0, 50.0)), FacetRequest("category", level=2))
    for group_by in (None, "group_id"):
        req = SearchRequest(query="drill", rerank=False, filters=SearchFilters(brands=("Acme", "Bosch")),
                            group_by=group_by, facets=facets, page_size=2)
        resp = searcher.search(req)
        whole = walk(searcher, replace(req, group_by=None))                   # every product of the result set
        rows = {p.sku: p for p in searcher.store.rows.values()}
        units: dict[str, set[str]] = {}
        for h in whole:
            units.setdefault(rows[h.sku].group if group_by else h.sku, set()).add(h.sku)
        got = {f.name: {v.value: v.count for v in f.values} for f in resp.facets}
        value = {"brand": lambda p: p.brand, "locale": lambda p: p.locale,
                 "in_stock": lambda p: "true" if p.in_stock else "false",
                 "price": lambda p: "0-20" if p.price < 20 else "20-50" if p.price < 50 else "50+",
                 "category:2": lambda p: p.category}
        for name, of in value.items():
            if name == "brand":
                continue                           # its own filter is set: counted without it (below)
            want = Counter(v for skus in units.values() for v in {of(rows[s]) for s in skus})
            assert got[name] == dict(want), (group_by, name)
        # brand: over the result set of the same request without the brand filter
        unfiltered = walk(searcher, replace(req, filters=SearchFilters(), group_by=None))
        brand_units: dict[str, set[str]] = {}
        for h in unfiltered:
            brand_units.setdefault(rows[h.sku].group if group_by else h.sku, set()).add(rows[h.sku].brand)
        assert got["brand"] == dict(Counter(b for brands in brand_units.values() for b in brands))
        assert "Krups" in got["brand"] and resp.facets[0].own_filter_removed
        assert not any(f.own_filter_removed for f in resp.facets[1:])


@pytest.mark.parametrize("sort", ["relevance", "price_asc", "price_desc", "newest"])
@pytest.mark.parametrize("group_by", [None, "group_id"])
def test_walking_every_page_returns_each_unit_of_the_result_set_once(sort: str, group_by: str | None) -> None:
    searcher = _searcher(_store())
    req = SearchRequest(query="drill coffee", rerank=False, sort=sort, group_by=group_by)
    whole = searcher.search(replace(req, page_size=100))
    assert whole.next_page_token == "" and len(whole.hits) == whole.result_set.size
    for size in (1, 2, 4):
        pages = walk(searcher, replace(req, page_size=size))
        assert [h.sku for h in pages] == [h.sku for h in whole.hits]
    if sort == "price_asc":
        assert [h.price for h in whole.hits] == sorted(h.price for h in whole.hits)
    if sort == "newest":
        stamps = {sku: updated for sku, *_, updated in CATALOG}
        assert [stamps[h.sku] for h in whole.hits] == sorted((stamps[h.sku] for h in whole.hits), reverse=True)
    assert whole.result_set.sort == sort


def test_a_value_sorted_page_survives_a_product_inserted_before_it() -> None:
    store = _store()
    searcher = _searcher(store)
    req = SearchRequest(query="drill", rerank=False, sort="price_asc", page_size=3)
    first = searcher.search(req)
    emb = WordsEmbedder()
    cheap = Product(sku="A0", version=1, title="drill cheap", price=1.0, vector=emb.embed_documents(["drill"])[0])
    store.upsert([cheap.with_changes(embedded_text=embed_text(cheap))])           # lands before the token's key
    rest = walk(searcher, replace(req, page_token=first.next_page_token))
    seen = [h.sku for h in first.hits + rest]
    assert len(seen) == len(set(seen)) and "A0" not in seen
    assert set(seen) | {"A0"} == {h.sku for h in searcher.search(replace(req, page_size=100)).hits}


def test_bad_tampered_or_foreign_tokens_are_refused_before_any_backend_call() -> None:
    class Counting(MemoryStore):
        calls = 0

        def retrieve(self, *args: Any, **kw: Any) -> Any:
            Counting.calls += 1
            return super().retrieve(*args, **kw)

    store = _store()
    counting = Counting(collection="live", alias="catalog", dim=DIM, cluster=store.cluster)
    searcher = _searcher(counting)
    req = SearchRequest(query="drill", rerank=False, page_size=2)
    token = searcher.search(req).next_page_token
    assert token and Counting.calls == 1
    for bad_req in (replace(req, page_token=token[:-2] + ("AA" if token[-2:] != "AA" else "BB")),
                    replace(req, page_token="garbage"), replace(req, query="coffee", page_token=token),
                    replace(req, sort="price_asc", page_token=token),
                    replace(req, filters=SearchFilters(brands=("Acme",)), page_token=token)):
        with pytest.raises(InvalidRequest) as err:
            searcher.search(bad_req)
        assert err.value.field == "page_token"
    assert Counting.calls == 1
    other = _searcher(counting, page_tokens=PageTokens("another replica's secret"))
    with pytest.raises(InvalidRequest):
        other.search(replace(req, page_token=token))


def test_the_result_depth_bounds_the_result_set_and_pages() -> None:
    searcher = _searcher(_store(), result_depth=4)
    resp = searcher.search(SearchRequest(query="drill", rerank=False, page_size=3, candidates=1))
    assert resp.result_set.depth == 4 and resp.result_set.products == 4
    assert len(walk(searcher, SearchRequest(query="drill", rerank=False, page_size=3, candidates=1))) == 4
    deeper = searcher.search(SearchRequest(query="drill", rerank=False, page_size=3, candidates=6))
    assert deeper.result_set.depth == 6                         # never shallower than what is reranked


def test_a_plain_request_is_answered_as_before_its_hits_naming_their_group() -> None:
    store = _store()
    resp = _searcher(store).search(SearchRequest(query="cordless drill", top_k=5, rerank=False))
    assert len(resp.hits) == 5 and resp.result_set is None and resp.next_page_token == "" and resp.facets == ()
    assert all(h.variant_count == 0 and h.variant_skus == () for h in resp.hits)
    assert [h.group_id for h in resp.hits] == [store.rows[h.sku].group for h in resp.hits]
    assert "DRILL" in {h.group_id for h in resp.hits}


def test_grouping_on_a_collection_older_than_group_id_degrades_and_says_how_to_fix_it() -> None:
    class Old(MemoryStore):
        def retrieve(self, *args: Any, **kw: Any) -> Any:
            found = super().retrieve(*args, **kw)
            return replace(found, hits={s: replace(h, group_id="") for s, h in found.hits.items()})

    store = _store()
    old = Old(collection="live", alias="catalog", dim=DIM, cluster=store.cluster)
    resp = _searcher(old).search(SearchRequest(query="drill", rerank=False, group_by="group_id"))
    assert resp.degraded and "catalog-search reindex" in resp.degraded_reason
    assert all(h.variant_count == 1 and h.group_id == h.sku for h in resp.hits)
