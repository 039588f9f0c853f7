"""Searcher on the real Milvus Lite server with the real local embedder and the sample catalog (321 products).

Data goes in through the real ingest pipeline, plus deletes of a few skus (tombstones). Ground truth is computed
from the store itself: every row is fetched (``MilvusStore.fetch``) and filters / cosine scores are evaluated in
Python / numpy, independently of the searcher's Milvus expressions.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from catalog_search.adapters.embedding.local import LocalEmbedder
from catalog_search.core.errors import RerankError, StoreError
from catalog_search.core.events import Delete, event_from_dict
from catalog_search.core.product import Product, category_levels
from catalog_search.adapters.milvus import schema as S
from catalog_search.adapters.milvus.store import MilvusStore
from catalog_search.adapters.milvus.errors import NO_CLIENT_RETRY
from catalog_search.ingest.pipeline import Pipeline
from catalog_search.rerank.breaker import CircuitBreaker
from catalog_search.rerank.stage import RerankStage
from catalog_search.core.cache import TTLCache
from catalog_search.retrieve.domain import CategoryFilter, InvalidRequest, SearchFilters, SearchRequest, SearchResponse
from catalog_search.retrieve.searcher import Searcher

DATA = Path(__file__).resolve().parents[2] / "app" / "data" / "sample_catalog.jsonl"
DELETED = ("EN-ELE-0006", "ZH-ELE-0005", "OUT-EN-ELE-0006", "EN-APP-0001", "DE-ELE-0001")
INJECTIONS = ('x" or deleted == true or "', 'Sony" or brand != "', "x' or deleted == true or '",
              'x\\" or deleted == true or \\"', 'x") or (deleted == true', "Sony\" || true || \"")


@dataclass
class Catalog:
    store: MilvusStore
    embedder: LocalEmbedder
    rows: dict[str, Product]          # every stored row, tombstones included

    @property
    def live(self) -> dict[str, Product]:
        return {sku: p for sku, p in self.rows.items() if not p.deleted}


class CountingEmbedder:
    """The real local embedder, counting calls (and optionally Qwen3-style, with ``format_query``)."""

    def __init__(self, inner: LocalEmbedder, *, qwen_style: bool = False) -> None:
        self.inner = inner
        self.queries: list[list[str]] = []
        self.documents: list[list[str]] = []
        if qwen_style:
            self.format_query = lambda q: f"Instruct: default\nQuery:{q}"

    model_id = property(lambda self: self.inner.model_id)
    dim = property(lambda self: self.inner.dim)

    def embed_queries(self, texts: Sequence[str], *, timeout_s: float | None = None) -> np.ndarray:
        self.queries.append(list(texts))
        return self.inner.embed_queries(texts)

    def embed_documents(self, texts: Sequence[str], *, timeout_s: float | None = None) -> np.ndarray:
        self.documents.append(list(texts))
        return self.inner.embed_documents(texts)

    def close(self) -> None:
        pass


class FakeReranker:
    """Scores 1.0 for documents containing ``word``, else 0.0; or fails."""

    def __init__(self, word: str = "", fail: bool = False) -> None:
        self.word, self.fail, self.calls = word, fail, 0

    model_id = "fake-reranker"

    def rerank(self, query: str, documents: Sequence[str], *, instruction: str | None = None,
               timeout_s: float | None = None) -> list[float]:
        self.calls += 1
        if self.fail:
            raise RerankError("boom", retriable=True)
        return [1.0 if self.word in d else 0.0 for d in documents]

    def close(self) -> None:
        pass


def _stage(reranker: Any = None) -> RerankStage:
    return RerankStage(reranker, breaker=CircuitBreaker(5, 30.0), margin_s=0.0)


@pytest.fixture(scope="module")
def catalog(milvus_server: Any) -> Iterator[Catalog]:
    suffix = uuid.uuid4().hex[:10]
    store = MilvusStore(uri=milvus_server.uri, collection=f"rs_{suffix}", alias=f"rs_a_{suffix}", dim=384,
                        timeout_s=10.0)
    store.ensure_collection()
    embedder = LocalEmbedder()
    events = [event_from_dict(json.loads(line)) for line in DATA.read_text(encoding="utf-8").splitlines() if line]
    pipeline = Pipeline(embedder, store)
    for start in range(0, len(events), 128):
        pipeline.process(events[start:start + 128])
    pipeline.process([Delete(sku=sku, version=2) for sku in DELETED])
    rows = store.fetch(sorted({e.sku for e in events}))
    assert len(rows) == 321 and sorted(s for s, p in rows.items() if p.deleted) == sorted(DELETED)
    yield Catalog(store, embedder, rows)
    try:
        store.drop_alias()
        store.drop_collection()
    finally:
        store.close()


@pytest.fixture
def searcher(catalog: Catalog) -> Searcher:
    return Searcher(catalog.store, catalog.embedder, _stage(), exact_threshold=2000, cache=TTLCache(100, 600))


def _search(s: Searcher, query: str, **kw: Any) -> SearchResponse:
    filters = kw.pop("filters", None) or SearchFilters()
    kw.setdefault("rerank", False)
    return s.search(SearchRequest(query=query, filters=filters, **kw))


def _matches(p: Product, f: SearchFilters) -> bool:
    """The filter semantics, written independently of ``retrieve.filters`` (on the normalised category path)."""
    levels = category_levels(p.category)
    path = levels[-1] if levels else ""

    def cat_ok(c: CategoryFilter) -> bool:
        want = category_levels(c.path)[-1]
        return path == want or (c.prefix and path.startswith(want + " > "))

    return (not p.deleted and (not f.categories or any(cat_ok(c) for c in f.categories))
            and (not f.brands or p.brand in f.brands)
            and (f.price_min is None or p.price >= f.price_min) and (f.price_max is None or p.price <= f.price_max)
            and (not f.in_stock_only or p.in_stock) and (f.locale is None or p.locale == f.locale)
            and (f.tenant is None or p.tenant == f.tenant))


# ----------------------------------------------------------------------------------------------------- relevance

@pytest.mark.parametrize("fusion", ["rrf", "weighted"])
def test_english_query_puts_a_headphone_first(searcher: Searcher, fusion: str) -> None:
    resp = _search(searcher, "noise cancelling headphones", top_k=5, fusion=fusion)
    assert "headphones" in resp.hits[0].title.lower(), [h.title for h in resp.hits]
    assert [h.score for h in resp.hits] == sorted((h.score for h in resp.hits), reverse=True)


@pytest.mark.parametrize("fusion", ["rrf", "weighted"])
def test_chinese_query_finds_headphones(searcher: Searcher, fusion: str) -> None:
    resp = _search(searcher, "无线降噪耳机", top_k=5, fusion=fusion)
    assert all("耳机" in h.title for h in resp.hits[:3]), [h.title for h in resp.hits]


def test_response_has_stage_scores_timings_and_models(searcher: Searcher, catalog: Catalog) -> None:
    resp = _search(searcher, "running shoes", top_k=10)
    assert len(resp.hits) == 10 and not resp.degraded
    top = resp.hits[0]
    assert top.scores.dense is not None and -1.0 <= top.scores.dense <= 1.0 and top.scores.bm25 and top.scores.bm25 > 0
    assert top.score == top.scores.fused and top.scores.rerank is None
    row = catalog.rows[top.sku]
    assert (top.title, top.brand, top.category, top.price, top.currency, top.in_stock) == (
        row.title, row.brand, row.category, row.price, row.currency, row.in_stock)
    assert {"embed", "dense", "bm25", "fuse", "total"} <= set(resp.timings_ms)
    assert "count" not in resp.timings_ms          # Lite's FLAT index is exact: no count(*) round trip
    assert "hydrate" not in resp.timings_ms        # the hit fields came with the searches (output_fields)
    assert resp.timings_ms["total"] >= resp.timings_ms["dense"] >= 0
    assert resp.models == {"embedding": catalog.embedder.model_id, "reranker": "none"}


def test_weighted_alpha_one_orders_by_dense_and_zero_by_bm25(searcher: Searcher) -> None:
    dense = _search(searcher, "wireless mouse", top_k=20, fusion="weighted", alpha=1.0).hits
    assert [h.scores.dense for h in dense] == sorted((h.scores.dense for h in dense), reverse=True)
    sparse = _search(searcher, "wireless mouse", top_k=5, fusion="weighted", alpha=0.0).hits
    assert [h.scores.bm25 or 0.0 for h in sparse] == sorted((h.scores.bm25 or 0.0 for h in sparse), reverse=True)
    assert "mouse" in sparse[0].title.lower()


# ------------------------------------------------------------------------------------------------------- filters

FILTERS = {
    "brand": SearchFilters(brands=("Sony", "Apple")),
    "category_prefix": SearchFilters(categories=(CategoryFilter("Apparel > Men"),)),
    "category_exact": SearchFilters(categories=(CategoryFilter("Apparel > Men > T-Shirts", prefix=False),)),
    "category_zh": SearchFilters(categories=(CategoryFilter("服装 > 男装"),)),
    "category_any": SearchFilters(categories=(CategoryFilter("Electronics > Audio"), CategoryFilter("电子产品"))),
    "price": SearchFilters(price_min=20, price_max=60),
    "in_stock": SearchFilters(in_stock_only=True, locale="ja-JP"),
    "locale": SearchFilters(locale="de-DE"),
    "tenant": SearchFilters(tenant="outlet"),
    "combined": SearchFilters(categories=(CategoryFilter("Electronics"),), price_min=50, price_max=500,
                              in_stock_only=True, locale="en-US", tenant="default"),
}


@pytest.mark.parametrize("kind", sorted(FILTERS))
def test_each_filter_kind_returns_exactly_the_matching_products(searcher: Searcher, catalog: Catalog,
                                                                kind: str) -> None:
    f = FILTERS[kind]
    expected = {sku for sku, p in catalog.rows.items() if _matches(p, f)}
    assert expected, f"{kind}: the sample catalog has no match, the test would prove nothing"
    resp = _search(searcher, "gift", top_k=100, filters=f)
    got = [h.sku for h in resp.hits]
    assert len(got) == len(set(got))
    assert set(got) <= expected
    if len(expected) <= 100:               # selective -> exact path -> every matching product comes back
        assert set(got) == expected, kind


def test_prefix_matches_the_subtree_and_exact_only_the_path(searcher: Searcher, catalog: Catalog) -> None:
    prefix = _search(searcher, "shirt", top_k=100, filters=SearchFilters(categories=(CategoryFilter("Apparel"),)))
    assert len({h.category.split(" > ")[1] for h in prefix.hits}) > 1
    exact_top = _search(searcher, "shirt", top_k=100,
                        filters=SearchFilters(categories=(CategoryFilter("Apparel", prefix=False),)))
    assert exact_top.hits == []                       # nothing sits at the root itself
    leaf = _search(searcher, "shirt", top_k=100,
                   filters=SearchFilters(categories=(CategoryFilter("服装>男装>T恤", prefix=False),)))
    assert leaf.hits and {h.category for h in leaf.hits} == {"服装 > 男装 > T恤"}
    partial = _search(searcher, "shirt", top_k=100,
                      filters=SearchFilters(categories=(CategoryFilter("Apparel > Me"),)))
    assert partial.hits == []                         # a level is matched whole, not as a string prefix


# ---------------------------------------------------------------------------------------------------- exactness

SELECTIVE = [
    SearchFilters(brands=("Sony",)),
    SearchFilters(locale="de-DE"),
    SearchFilters(tenant="outlet", price_max=100),
    SearchFilters(brands=("Uniqlo", "华为 HUAWEI", "Apple"), in_stock_only=True),
    SearchFilters(categories=(CategoryFilter("Home & Kitchen"),), locale="en-US"),
]


class _ScanningStore:
    """The same Milvus store claiming an approximate dense index (as HNSW on a server): the exact-scan path."""

    def __init__(self, store: MilvusStore) -> None:
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def dense_is_exact(self, collection: str) -> bool:
        return False


@pytest.mark.parametrize("path", ["flat", "scan"])
@pytest.mark.parametrize("index", range(len(SELECTIVE)))
@pytest.mark.parametrize("query", ["noise cancelling headphones", "无线降噪耳机", "cotton t-shirt"])
def test_exact_path_equals_brute_force(catalog: Catalog, index: int, query: str, path: str) -> None:
    """Lite's FLAT index answers a selective search exactly inside Milvus (no count, no scan); an approximate index
    gets a count and an exact scan of the matching vectors. Both return every match with its exact cosine."""
    store = catalog.store if path == "flat" else _ScanningStore(catalog.store)
    searcher = Searcher(store, catalog.embedder, _stage(), exact_threshold=2000, cache=TTLCache(100, 600))
    assert catalog.store.dense_is_exact(catalog.store.collection)            # Lite: FLAT
    f = SELECTIVE[index]
    matching = {sku: p for sku, p in catalog.rows.items() if _matches(p, f)}
    assert 0 < len(matching) <= 100
    q = catalog.embedder.embed_queries([query])[0].astype(np.float64)
    brute = {sku: float(np.dot(p.vector.astype(np.float64), q) / np.linalg.norm(p.vector) / np.linalg.norm(q))
             for sku, p in matching.items()}
    # BM25 of each product does not depend on the filter: one unfiltered sparse search gives the reference.
    client = catalog.store.client
    ref = client.search(catalog.store.collection, data=[query], anns_field=S.SPARSE, limit=1000,
                        search_params={"metric_type": "BM25"}, timeout=10, **NO_CLIENT_RETRY)[0]
    bm25 = {h["id"]: h["distance"] for h in ref}

    dense_only = _search(searcher, query, top_k=100, filters=f, fusion="weighted", alpha=1.0)
    assert ("exact_scan" in dense_only.timings_ms) is (path == "scan")
    assert {h.sku for h in dense_only.hits} == set(matching)          # every match, nothing else
    for h in dense_only.hits:
        assert h.scores.dense == pytest.approx(brute[h.sku], abs=1e-5)
        assert h.scores.bm25 == (pytest.approx(bm25[h.sku], rel=1e-5) if h.sku in bm25 else None)
    got = [h.scores.dense for h in dense_only.hits]
    assert got == pytest.approx(sorted(brute.values(), reverse=True), abs=1e-5)

    fused = _search(searcher, query, top_k=100, filters=f)
    assert {h.sku for h in fused.hits} == set(matching)
    top_k = _search(searcher, query, top_k=3, filters=f, fusion="weighted", alpha=1.0)
    best = sorted(brute.values(), reverse=True)[:3]
    assert [h.scores.dense for h in top_k.hits] == pytest.approx(best, abs=1e-5)


def test_ann_path_when_the_filter_matches_more_than_the_threshold(catalog: Catalog) -> None:
    s = Searcher(catalog.store, catalog.embedder, _stage(), exact_threshold=10)
    resp = _search(s, "noise cancelling headphones", top_k=5)
    assert "exact_scan" not in resp.timings_ms and "headphones" in resp.hits[0].title.lower()
    sony = SearchFilters(brands=("Sony",))
    exact = _search(Searcher(_ScanningStore(catalog.store), catalog.embedder, _stage(), exact_threshold=10),
                    "noise cancelling headphones", top_k=100, filters=sony)
    assert "exact_scan" in exact.timings_ms
    assert {h.sku for h in exact.hits} == {sku for sku, p in catalog.rows.items() if _matches(p, sony)}


# -------------------------------------------------------------------------------------------- tombstones, safety

@pytest.mark.parametrize("query", ["noise cancelling headphones", "无线降噪耳机", "cotton t-shirt", "Sony",
                                   'x" or deleted == true or "'])
@pytest.mark.parametrize("threshold", [0, 2000])
def test_tombstones_never_come_back(catalog: Catalog, query: str, threshold: int) -> None:
    s = Searcher(catalog.store, catalog.embedder, _stage(), exact_threshold=threshold)
    for f in (SearchFilters(), SearchFilters(brands=("Sony", "Uniqlo")), SearchFilters(locale="de-DE")):
        got = {h.sku for h in _search(s, query, top_k=100, filters=f).hits}
        assert not got & set(DELETED)


@pytest.mark.parametrize("value", INJECTIONS)
def test_injection_attempts_in_every_string_field_match_nothing(searcher: Searcher, value: str) -> None:
    for f in (SearchFilters(brands=(value,)), SearchFilters(brands=("Sony", value)), SearchFilters(locale=value),
              SearchFilters(tenant=value), SearchFilters(categories=(CategoryFilter(value),)),
              SearchFilters(categories=(CategoryFilter(value, prefix=False),))):
        resp = _search(searcher, "headphones", top_k=100, filters=f)
        skus = {h.sku for h in resp.hits}
        if f.brands == ("Sony", value):
            assert {h.brand for h in resp.hits} == {"Sony"} and not skus & set(DELETED)
        else:
            assert skus == set(), (f, skus)


@pytest.mark.parametrize("req", [
    SearchRequest(query=""), SearchRequest(query="x" * 5000), SearchRequest(query="a", top_k=0),
    SearchRequest(query="a", top_k=101), SearchRequest(query="a", candidates=1001),
    SearchRequest(query="a", filters=SearchFilters(price_min=9, price_max=1)),
    SearchRequest(query="a", filters=SearchFilters(brands=("",))),
    SearchRequest(query="a", filters=SearchFilters(price_min=float("nan"))),
])
def test_invalid_requests_raise_before_any_backend_call(catalog: Catalog, req: SearchRequest) -> None:
    emb = CountingEmbedder(catalog.embedder)
    with pytest.raises(InvalidRequest):
        Searcher(catalog.store, emb, _stage()).search(req)
    assert emb.queries == []


# ---------------------------------------------------------------------------------------- cache, rerank, alias

def test_cache_hit_skips_the_embedder(catalog: Catalog) -> None:
    emb = CountingEmbedder(catalog.embedder)
    s = Searcher(catalog.store, emb, _stage(), cache=TTLCache(10, 600))
    first = _search(s, "espresso machine", top_k=5)
    second = _search(s, "espresso machine", top_k=5, filters=SearchFilters(locale="en-US"))
    assert len(emb.queries) == 1
    assert [h.sku for h in first.hits][:1] == [h.sku for h in second.hits][:1]
    _search(s, "espresso machine", top_k=5, instruction="Find coffee gear")    # instruction is part of the key
    assert len(emb.queries) == 2
    uncached = Searcher(catalog.store, emb, _stage(), cache=None)
    _search(uncached, "espresso machine", top_k=5)
    assert len(emb.queries) == 3


def test_instruction_override_on_a_qwen3_style_embedder(catalog: Catalog) -> None:
    emb = CountingEmbedder(catalog.embedder, qwen_style=True)
    s = Searcher(catalog.store, emb, _stage(), query_template="Instruct: {instruction}\nQuery:{query}")
    _search(s, "usb charger", top_k=3)
    _search(s, "usb charger", top_k=3, instruction="Find chargers")
    assert emb.queries == [["usb charger"]]
    assert emb.documents == [["Instruct: Find chargers\nQuery:usb charger"]]


def test_rerank_reorders_the_candidates_and_reports_its_model(catalog: Catalog) -> None:
    plain = Searcher(catalog.store, catalog.embedder, _stage())
    tenth = _search(plain, "headphones", top_k=10).hits[9]
    reranker = FakeReranker(word=tenth.title)           # embed_text starts with the title
    s = Searcher(catalog.store, catalog.embedder, _stage(reranker))
    resp = _search(s, "headphones", top_k=5, rerank=True, candidates=50)
    assert reranker.calls == 1 and not resp.degraded
    assert resp.models["reranker"] == "fake-reranker" and "rerank" in resp.timings_ms
    assert resp.hits[0].title == tenth.title
    assert resp.hits[0].scores.rerank == 1.0 and resp.hits[0].score == 1.0
    assert resp.hits[0].scores.fused < resp.hits[1].scores.fused or resp.hits[1].title == tenth.title
    assert [h.score for h in resp.hits] == sorted((h.score for h in resp.hits), reverse=True)


def test_failing_reranker_degrades_to_the_fused_order(catalog: Catalog) -> None:
    s = Searcher(catalog.store, catalog.embedder, _stage(FakeReranker(fail=True)))
    plain = _search(s, "headphones", top_k=5)
    resp = _search(s, "headphones", top_k=5, rerank=True)
    assert resp.degraded and "boom" in resp.degraded_reason
    assert [h.sku for h in resp.hits] == [h.sku for h in plain.hits]
    assert all(h.scores.rerank is None and h.score == h.scores.fused for h in resp.hits)


def test_reads_through_the_alias_and_sees_a_swap(catalog: Catalog, milvus_store: Callable[..., MilvusStore]) -> None:
    other = milvus_store(dim=384)                      # an empty collection of its own
    store = catalog.store
    s = Searcher(store, catalog.embedder, _stage(), alias_ttl_s=0.0)
    assert _search(s, "headphones", top_k=3).hits
    store.set_alias(store.alias, other.collection)
    try:
        assert _search(s, "headphones", top_k=3).hits == []
    finally:
        store.set_alias(store.alias, store.collection)
    assert _search(s, "headphones", top_k=3).hits


def test_missing_alias_and_passed_deadline_are_store_errors(catalog: Catalog) -> None:
    lost = MilvusStore(uri=catalog.store.uri, collection="c_missing", alias=f"no_{uuid.uuid4().hex[:8]}", dim=384)
    try:
        with pytest.raises(StoreError):
            Searcher(lost, catalog.embedder, _stage()).search(SearchRequest(query="x"))
    finally:
        lost.close()
    with pytest.raises(StoreError) as err:
        Searcher(catalog.store, catalog.embedder, _stage()).search(SearchRequest(query="x"), time_left_s=lambda: -1.0)
    assert err.value.retriable


def test_no_reranker_configured_reports_no_rerank_timing(searcher: Searcher) -> None:
    resp = _search(searcher, "noise cancelling headphones", top_k=3, rerank=True)   # asked for, none configured
    assert resp.models["reranker"] == "none" and not resp.degraded
    assert "rerank" not in resp.timings_ms and {"fuse", "total"} <= set(resp.timings_ms)
