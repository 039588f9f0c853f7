"""One contract for every store: the Milvus adapter (on the session's Milvus Lite server) and the in-memory store
of the unit tests pass the same assertions, so retrieval tested on the memory store holds on Milvus.

Expected results are written out by hand from the ``core.filters`` semantics, never computed by either store.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from catalog_search.core.errors import StoreError
from catalog_search.core.filters import CategoryFilter, SearchFilters
from catalog_search.core.product import Product, embed_text
from catalog_search.core.store import CatalogStore, SearchStore, StoredHit, VectorStore
from tests.support.memory_store import MemoryCluster, MemoryStore

DIM = 8
T = 10.0                                   # timeout of every call
LITERAL_BRAND = 'Sony" or brand != "'      # a real brand value that looks like an injection
INJECTIONS = ('x" or deleted == true or "', 'Sony" or brand != "x', "x' or deleted == true or '",
              'x\\" or deleted == true or \\"', 'x") or (deleted == true', 'Sony" || true || "')
Make = Callable[..., Any]


def vec(*head: float) -> np.ndarray:
    v = np.zeros(DIM, dtype=np.float32)
    v[: len(head)] = head
    return v


def product(sku: str, **kw: Any) -> Product:
    fields: dict[str, Any] = {"version": 1, "title": f"item {sku.lower()}", "brand": "Acme", "category": "Misc",
                              "price": 1.0, "currency": "EUR", "in_stock": True, "locale": "en-US",
                              "vector": vec(1.0, 0.5)}
    fields.update(kw)
    p = Product(sku=sku, **fields)
    return p.with_changes(embedded_text=embed_text(p))      # as the ingest plan hands rows to a store


@pytest.fixture(params=["memory", pytest.param("milvus", marks=pytest.mark.milvus)])
def make_store(request: pytest.FixtureRequest) -> Make:
    """``make(dim=DIM, *, collection=None, alias=None, ensure=True)``: a fresh store of the parametrized kind."""
    if request.param == "milvus":
        return request.getfixturevalue("milvus_store")
    cluster = MemoryCluster()

    def make(dim: int = DIM, *, collection: str | None = None, alias: str | None = None,
             ensure: bool = True) -> MemoryStore:
        suffix = uuid.uuid4().hex[:12]
        store = MemoryStore(collection=collection or f"t_{suffix}", alias=alias or f"a_{suffix}", dim=dim,
                            cluster=cluster)
        if ensure:
            store.ensure_collection()
        return store
    return make


# ----------------------------------------------------------------------------------------------- rows, tombstones

def test_it_implements_the_three_protocols(make_store: Make) -> None:
    store = make_store()
    assert isinstance(store, VectorStore) and isinstance(store, SearchStore) and isinstance(store, CatalogStore)
    assert store.max_limit >= 1000


def test_upsert_fetch_tombstones_and_counts(make_store: Make) -> None:
    store = make_store()
    store.upsert([product("A", price=9.5, vector=vec(1, 2)), product("B", attributes={"color": "red"}),
                  product("C", version=3)])
    got = store.fetch(["A", "B", "missing", "A"])
    assert set(got) == {"A", "B"}
    assert got["A"].price == 9.5 and got["A"].title == "item a" and not got["A"].deleted
    assert np.allclose(got["A"].vector, vec(1, 2)) and dict(got["B"].attributes) == {"color": "red"}
    store.upsert([Product(sku="C", version=4, deleted=True), product("A", version=2, price=3.0)])
    after = store.fetch(["A", "C"])
    assert after["C"].deleted and after["C"].version == 4
    assert after["A"].version == 2 and after["A"].price == 3.0
    counts = store.counts()
    assert (counts.live, counts.tombstoned) == (2, 1)


def test_rows_it_cannot_store_are_permanent_errors(make_store: Make) -> None:
    store = make_store()
    for bad in (product("W", vector=np.ones(DIM + 1, dtype=np.float32)), product("N", vector=None)):
        with pytest.raises(StoreError) as err:
            store.upsert([bad])
        assert not err.value.retriable
    assert store.fetch(["W", "N"]) == {}


# -------------------------------------------------------------------------------------------------------- filters

CATALOG = [
    product("A", brand="Sony", category="Electronics > Audio > Headphones", price=99.0, title="wireless headphones"),
    product("B", brand="Bose", category="Electronics > Audio", price=199.0, in_stock=False),
    product("C", brand="Apple", category="Electronics", price=999.0, locale="de-DE"),
    product("D", brand="Uniqlo", category="Apparel > Men > T-Shirts", price=15.0, tenant="outlet"),
    product("E", brand="Sony", category="Electronics > Audio > Headphones", price=49.0),      # deleted below
    product("F", brand="Sony", category=" Electronics>Audio ", price=10.0, in_stock=False),
    product("H", brand=LITERAL_BRAND, category="Toys", price=5.0),
]
LIVE = {"A", "B", "C", "D", "F", "H"}
CASES: dict[str, tuple[SearchFilters, set[str]]] = {
    "none": (SearchFilters(), LIVE),
    "category_prefix": (SearchFilters(categories=(CategoryFilter("Electronics > Audio"),)), {"A", "B", "F"}),
    "category_exact": (SearchFilters(categories=(CategoryFilter("Electronics>Audio", prefix=False),)), {"B", "F"}),
    "category_exact_top": (SearchFilters(categories=(CategoryFilter("Electronics", prefix=False),)), {"C"}),
    "category_prefix_top": (SearchFilters(categories=(CategoryFilter("Electronics"),)), {"A", "B", "C", "F"}),
    "category_any": (SearchFilters(categories=(CategoryFilter("Electronics", prefix=False),
                                               CategoryFilter("Apparel"))), {"C", "D"}),
    "category_partial_word": (SearchFilters(categories=(CategoryFilter("Electronics > Aud"),)), set()),
    "brands_any": (SearchFilters(brands=("Sony", "Apple")), {"A", "C", "F"}),
    "brand_literal": (SearchFilters(brands=(LITERAL_BRAND,)), {"H"}),
    "price_range_inclusive": (SearchFilters(price_min=15.0, price_max=99.0), {"A", "D"}),
    "price_min": (SearchFilters(price_min=199.0), {"B", "C"}),
    "in_stock": (SearchFilters(in_stock_only=True), {"A", "C", "D", "H"}),
    "locale": (SearchFilters(locale="de-DE"), {"C"}),
    "tenant": (SearchFilters(tenant="outlet"), {"D"}),
    "combined": (SearchFilters(categories=(CategoryFilter("Electronics"),), brands=("Sony", "Bose", "Apple"),
                               price_max=500.0, in_stock_only=True, locale="en-US", tenant="default"), {"A"}),
}


@pytest.fixture
def catalog(make_store: Make) -> Any:
    store = make_store()
    store.upsert(CATALOG)
    store.upsert([Product(sku="E", version=2, deleted=True)])
    return store


def _every_call(store: Any, f: SearchFilters, query: str = "headphones") -> dict[str, Any]:
    coll = store.resolve_alias()
    skus, vectors = store.exact_scan(coll, f, limit=1000, timeout=T)
    return {
        "count": store.count_matching(coll, f, timeout=T),
        "scan": set(skus), "scan_rows": vectors.shape[0],
        "dense": {s for s, _ in store.dense_search(coll, f, vec(1.0, 0.5), limit=100, timeout=T)},
        "bm25": {s for s, _ in store.bm25_search(coll, f, query, limit=100, timeout=T)},
        "hydrate": set(store.hydrate(coll, f, [p.sku for p in CATALOG], timeout=T)),
        "retrieve": set(store.retrieve(coll, f, vector=vec(1.0, 0.5), text=None, limit=100, with_text=False,
                                       timeout=T).hits),
    }


@pytest.mark.parametrize("case", list(CASES))
def test_every_filter_kind_means_the_same_in_every_call(catalog: Any, case: str) -> None:
    f, want = CASES[case]
    got = _every_call(catalog, f)
    assert got["count"] == len(want) == got["scan_rows"]
    assert got["scan"] == got["dense"] == got["hydrate"] == got["retrieve"] == want
    assert got["bm25"] <= want


@pytest.mark.parametrize("value", INJECTIONS)
def test_injection_looking_values_stay_literals(catalog: Any, value: str) -> None:
    for f in (SearchFilters(brands=(value,)), SearchFilters(locale=value), SearchFilters(tenant=value),
              SearchFilters(categories=(CategoryFilter(value),)),
              SearchFilters(categories=(CategoryFilter(value, prefix=False),))):
        got = _every_call(catalog, f)
        assert got["count"] == 0 and got["scan"] == got["dense"] == got["hydrate"] == got["bm25"] == set(), f
        assert got["retrieve"] == set(), f
    both = _every_call(catalog, SearchFilters(brands=("Bose", INJECTIONS[0])))
    assert both["scan"] == both["hydrate"] == {"B"}


# ---------------------------------------------------------------------------------------------- ranking, hydrate

def test_dense_search_ranks_by_cosine(make_store: Make) -> None:
    store = make_store()
    store.upsert([product("far", vector=vec(-1, 0)), product("near", vector=vec(1, 0)),
                  product("mid", vector=vec(1, 1)), product("side", vector=vec(0, 1))])
    ranked = store.dense_search(store.resolve_alias(), SearchFilters(), vec(1, 0.1), limit=3, timeout=T)
    assert [s for s, _ in ranked] == ["near", "mid", "side"]
    q = np.array([1, 0.1]) / np.linalg.norm([1, 0.1])
    assert [score for _, score in ranked] == pytest.approx([q[0], (q[0] + q[1]) / np.sqrt(2), q[1]], abs=1e-4)


def test_bm25_prefers_documents_with_the_query_terms(make_store: Make) -> None:
    store = make_store()
    store.upsert([product("cordless", title="cordless drill with battery pack"),
                  product("hammer", title="hammer drill heavy duty"),
                  product("hose", title="garden hose reel"), product("coffee", title="espresso machine")])
    coll = store.resolve_alias()
    ranked = store.bm25_search(coll, SearchFilters(), "cordless drill", limit=10, timeout=T)
    assert [s for s, _ in ranked] == ["cordless", "hammer"] and ranked[0][1] > ranked[1][1] > 0
    assert store.bm25_search(coll, SearchFilters(), "trampoline", limit=10, timeout=T) == []
    only = store.bm25_search(coll, SearchFilters(brands=("Nobody",)), "drill", limit=10, timeout=T)
    assert only == []


def test_hydrate_returns_hits_still_matching(catalog: Any) -> None:
    coll = catalog.resolve_alias()
    sony = SearchFilters(brands=("Sony",))
    rows = catalog.hydrate(coll, sony, ["A", "B", "E", "F", "unknown"], timeout=T)
    assert set(rows) == {"A", "F"}                         # B is Bose, E a tombstone, unknown never stored
    a = rows["A"]
    assert isinstance(a, StoredHit)
    assert (a.sku, a.title, a.brand, a.category, a.price, a.currency, a.in_stock) == \
        ("A", "wireless headphones", "Sony", "Electronics > Audio > Headphones", 99.0, "EUR", True)
    assert a.embed_text.startswith("wireless headphones")
    assert (a.group_id, a.locale, a.version) == ("A", "en-US", 1)         # no group given: its own group
    catalog.upsert([Product(sku="A", version=5, deleted=True)])          # deleted during a search
    assert set(catalog.hydrate(coll, sony, ["A", "F"], timeout=T)) == {"F"}
    assert catalog.hydrate(coll, sony, [], timeout=T) == {}


def test_retrieve_answers_both_searches_with_their_hit_fields_in_one_call(catalog: Any) -> None:
    coll = catalog.resolve_alias()
    sony = SearchFilters(brands=("Sony",))
    query = vec(1.0, 0.5)
    got = catalog.retrieve(coll, sony, vector=query, text="headphones", limit=10, with_text=True, timeout=T)
    assert got.dense == catalog.dense_search(coll, sony, query, limit=10, timeout=T)
    assert got.bm25 == catalog.bm25_search(coll, sony, "headphones", limit=10, timeout=T)
    assert set(got.hits) == {s for s, _ in got.dense + got.bm25} == {"A", "F"}       # E, a tombstone, never
    assert got.hits == catalog.hydrate(coll, sony, ["A", "F"], timeout=T)            # the same fields, text too
    lean = catalog.retrieve(coll, sony, vector=query, text=None, limit=10, with_text=False, timeout=T)
    assert lean.bm25 == [] and {h.embed_text for h in lean.hits.values()} == {None}
    assert lean.hits["A"].title == "wireless headphones" and lean.hits["A"].price == 99.0
    only_bm25 = catalog.retrieve(coll, sony, vector=None, text="headphones", limit=10, with_text=False, timeout=T)
    assert only_bm25.dense == [] and only_bm25.bm25 == got.bm25


def test_hydrate_carries_what_grouping_facets_and_sorts_read(make_store: Make) -> None:
    store = make_store()
    store.upsert([product("V1", group_id="TEE", locale="de-DE", version=4, updated_at_ms=1_700_000_000_123),
                  product("V2", group_id="TEE"), product("S")])
    rows = store.hydrate(store.resolve_alias(), SearchFilters(), ["V1", "V2", "S"], timeout=T)
    assert {sku: row.group_id for sku, row in rows.items()} == {"V1": "TEE", "V2": "TEE", "S": "S"}
    v1 = rows["V1"]
    assert (v1.locale, v1.version, v1.updated_at_ms) == ("de-DE", 4, 1_700_000_000_123)
    assert store.fetch(["V1"])["V1"].group_id == "TEE" and store.fetch(["S"])["S"].group == "S"


def test_exact_scan_returns_every_match_with_its_vector(make_store: Make) -> None:
    store = make_store()
    store.upsert([product(f"S{i:03d}", vector=vec(1.0, i / 10), brand="Even" if i % 2 == 0 else "Odd")
                  for i in range(60)])
    coll = store.resolve_alias()
    skus, vectors = store.exact_scan(coll, SearchFilters(brands=("Even",)), limit=1000, timeout=T)
    assert sorted(skus) == [f"S{i:03d}" for i in range(0, 60, 2)]
    assert vectors.shape == (30, DIM) and vectors.dtype == np.float32
    for sku, v in zip(skus, vectors):
        assert np.allclose(v, vec(1.0, int(sku[1:]) / 10))
    few, _ = store.exact_scan(coll, SearchFilters(), limit=10, timeout=T)
    assert len(few) == 10


def test_searches_of_an_empty_collection_are_empty(make_store: Make) -> None:
    store = make_store()
    coll = store.resolve_alias()
    assert store.dense_search(coll, SearchFilters(), vec(1.0), limit=10, timeout=T) == []
    assert store.bm25_search(coll, SearchFilters(), "cordless drill", limit=10, timeout=T) == []
    assert store.bm25_search(coll, SearchFilters(brands=("Sony",)), "drill", limit=10, timeout=T) == []


def test_an_exact_dense_index_answers_a_selective_search_with_every_match(make_store: Make) -> None:
    """Both stores here claim an exact dense search (Lite's FLAT, the in-memory cosine), so the searcher may skip
    the exact scan: the filtered dense search must then return every match with its exact cosine."""
    store = make_store()
    store.upsert([product(f"S{i:03d}", vector=vec(1.0, i / 10), brand="Even" if i % 2 == 0 else "Odd")
                  for i in range(60)])
    coll = store.resolve_alias()
    assert store.dense_is_exact(coll)
    query = vec(0.2, 1.0)
    got = store.dense_search(coll, SearchFilters(brands=("Even",)), query, limit=1000, timeout=T)
    assert sorted(sku for sku, _ in got) == [f"S{i:03d}" for i in range(0, 60, 2)]
    for sku, score in got:
        v = vec(1.0, int(sku[1:]) / 10)
        assert score == pytest.approx(float(v @ query / np.linalg.norm(v) / np.linalg.norm(query)), abs=1e-5)
    assert [score for _, score in got] == sorted((score for _, score in got), reverse=True)


# ---------------------------------------------------------------------------------------------- alias, reindex

def test_alias_resolution(make_store: Make) -> None:
    one, two = make_store(), make_store()
    assert one.resolve_alias() == one.collection and one.alias_target() == one.collection
    one.set_alias(one.alias, two.collection)
    try:
        assert one.resolve_alias() == two.collection
    finally:
        one.set_alias(one.alias, one.collection)
    assert one.resolve_alias(one.alias) == one.collection
    with pytest.raises(StoreError) as missing:
        one.resolve_alias(f"none_{uuid.uuid4().hex[:8]}")
    assert not missing.value.retriable
    with pytest.raises(StoreError):
        one.set_alias(one.alias, f"none_{uuid.uuid4().hex[:8]}")
    assert one.alias_target(f"none_{uuid.uuid4().hex[:8]}") is None


def test_reindex_reads_every_row_with_its_vector(make_store: Make) -> None:
    store = make_store()
    store.upsert([product(f"R{i}", vector=vec(1.0, float(i)), version=i + 1) for i in range(7)])
    store.upsert([Product(sku="R3", version=9, deleted=True)])
    pages = list(store.iter_rows(store.collection, page_rows=3))
    assert all(0 < len(page) <= 3 for page in pages)
    rows = {p.sku: p for page in pages for p in page}
    assert sorted(rows) == [f"R{i}" for i in range(7)] and sum(map(len, pages)) == 7
    assert rows["R3"].deleted and rows["R3"].version == 9
    assert np.allclose(rows["R5"].vector, vec(1.0, 5.0)) and rows["R5"].version == 6
    assert store.collection_exists(store.collection) and not store.collection_exists(f"no_{uuid.uuid4().hex[:8]}")
    assert store.collection_dim(store.collection) == DIM
    empty = make_store(dim=4)
    assert list(empty.iter_rows(empty.collection)) == [] and empty.collection_dim(empty.collection) == 4


def test_reading_a_dropped_collection_is_a_permanent_store_error(make_store: Make) -> None:
    store, other = make_store(), make_store()
    gone = other.collection
    other.drop_collection()
    for call in (lambda: store.count_matching(gone, SearchFilters(), timeout=T),
                 lambda: store.bm25_search(gone, SearchFilters(), "drill", limit=5, timeout=T),
                 lambda: store.hydrate(gone, SearchFilters(), ["A"], timeout=T)):
        with pytest.raises(StoreError) as err:
            call()
        assert not err.value.retriable
