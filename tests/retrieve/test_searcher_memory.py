"""The Searcher's decisions on the in-memory store (no Milvus): exact vs ANN path, single retrievers, hydrate
dropping products deleted mid-search, the alias cache, rerank on ``embed_text``. The same store semantics are held
to Milvus' by tests/contract; tests/retrieve/test_searcher.py runs the searcher on Milvus Lite itself."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from catalog_search.core.errors import StoreError
from catalog_search.core.filters import SearchFilters
from catalog_search.core.product import Product, embed_text
from catalog_search.rerank.breaker import CircuitBreaker
from catalog_search.rerank.stage import RerankStage
from catalog_search.retrieve.domain import SearchRequest
from catalog_search.retrieve.searcher import Searcher
from tests.support.memory_store import MemoryCluster, MemoryStore, tokens

DIM = 32


class WordsEmbedder:
    """Bag of hashed words, normalised: texts sharing words are close (enough to rank by meaning here)."""

    model_id, dim = "words", DIM

    def __init__(self) -> None:
        self.calls = 0

    def embed_documents(self, texts: Sequence[str], *, timeout_s: float | None = None) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in tokens(text):
                out[i, zlib.crc32(word.encode()) % DIM] += 1.0
            out[i] /= np.linalg.norm(out[i]) or 1.0
        return out

    embed_queries = embed_documents

    def close(self) -> None:
        pass


class WordReranker:
    model_id = "word-reranker"

    def __init__(self, word: str) -> None:
        self.word, self.seen = word, []

    def rerank(self, query: str, documents: Sequence[str], **_: Any) -> list[float]:
        self.seen = list(documents)
        return [1.0 if self.word in d else 0.0 for d in documents]

    def close(self) -> None:
        pass


TITLES = {"P1": "cordless drill battery", "P2": "hammer drill", "P3": "garden hose", "P4": "coffee maker",
          "P5": "espresso coffee grinder", "P6": "drill bits set"}


def _store(cluster: MemoryCluster | None = None, collection: str = "live", *, approximate: bool = False) -> MemoryStore:
    store = MemoryStore(collection=collection, alias="catalog", dim=DIM, cluster=cluster, approximate=approximate)
    store.ensure_collection()
    emb = WordsEmbedder()
    rows = [Product(sku=sku, version=1, title=title, brand="Acme" if sku != "P6" else "Bosch", category="Tools",
                    price=float(i), in_stock=True, vector=emb.embed_documents([title])[0])
            for i, (sku, title) in enumerate(TITLES.items(), start=1)]
    store.upsert([p.with_changes(embedded_text=embed_text(p)) for p in rows])      # as the ingest plan does
    return store


def _searcher(store: MemoryStore, reranker: Any = None, **kw: Any) -> Searcher:
    stage = RerankStage(reranker, breaker=CircuitBreaker(5, 30.0), margin_s=0.0)
    return Searcher(store, WordsEmbedder(), stage, **kw)


def _skus(resp: Any) -> list[str]:
    return [h.sku for h in resp.hits]


@pytest.mark.parametrize("approximate", [False, True])
def test_exact_path_scores_every_match_and_fills_the_hit_fields(approximate: bool) -> None:
    """An exact dense index answers the selective search itself; an approximate one gets an exact scan."""
    store = _store(approximate=approximate)
    resp = _searcher(store).search(SearchRequest(query="drill", top_k=10, rerank=False, alpha=1.0))
    assert ("exact_scan" in resp.timings_ms) is approximate
    assert set(_skus(resp)) == set(TITLES)                     # dense side: every live product is a candidate
    assert set(_skus(resp)[:3]) == {"P1", "P2", "P6"}
    hit = next(h for h in resp.hits if h.sku == "P6")
    assert (hit.title, hit.brand, hit.category, hit.price, hit.in_stock) == ("drill bits set", "Bosch", "Tools", 6.0,
                                                                           True)


def test_ann_path_and_filters_reach_the_store() -> None:
    store = _store()
    resp = _searcher(store, exact_threshold=1).search(
        SearchRequest(query="drill", top_k=10, rerank=False, filters=SearchFilters(brands=("Acme",))))
    assert "exact_scan" not in resp.timings_ms and "P6" not in _skus(resp)
    assert set(_skus(resp)[:2]) == {"P1", "P2"}


def test_bm25_alone_keeps_its_own_order() -> None:
    resp = _searcher(_store()).search(SearchRequest(query="coffee grinder", retrievers="bm25", rerank=False))
    assert _skus(resp) == ["P5", "P4"] and resp.hits[0].scores.dense is None


@pytest.mark.parametrize("approximate", [False, True], ids=["retrieve-with-fields", "exact-scan-then-hydrate"])
def test_tombstones_and_products_deleted_mid_search_are_dropped(approximate: bool) -> None:
    """A product deleted before its fields are read never appears: on the ANN path the fields come with the
    search (``retrieve``, which hydrates internally here), on the exact path from the searcher's hydrate."""
    store = _store()
    store.upsert([Product(sku="P2", version=2, deleted=True)])

    class DeletingStore(MemoryStore):
        def hydrate(self, collection: str, filters: SearchFilters, skus: Sequence[str], *, timeout: float) -> Any:
            self.upsert([Product(sku="P1", version=3, deleted=True)])           # lands between fuse and hydrate
            return super().hydrate(collection, filters, skus, timeout=timeout)

    racing = DeletingStore(collection="live", alias="catalog", dim=DIM, cluster=store.cluster, approximate=approximate)
    resp = _searcher(racing).search(SearchRequest(query="drill", rerank=False))
    assert "P1" not in _skus(resp) and "P2" not in _skus(resp) and "P6" in _skus(resp)


def test_rerank_reads_the_embed_text() -> None:
    reranker = WordReranker("bits")
    resp = _searcher(_store(), reranker).search(SearchRequest(query="drill", top_k=3, rerank=True, candidates=6))
    assert _skus(resp)[0] == "P6" and resp.models["reranker"] == "word-reranker"
    assert any(d.startswith("drill bits set") for d in reranker.seen)


def test_alias_swap_is_seen_and_a_missing_alias_is_a_store_error() -> None:
    cluster = MemoryCluster()
    live = _store(cluster)
    empty = MemoryStore(collection="empty", alias="other", dim=DIM, cluster=cluster)
    empty.ensure_collection()
    s = _searcher(live, alias_ttl_s=0.0)
    assert _skus(s.search(SearchRequest(query="drill", rerank=False)))
    live.set_alias("catalog", "empty")
    assert s.search(SearchRequest(query="drill", rerank=False)).hits == []
    live.drop_alias("catalog")
    with pytest.raises(StoreError) as err:
        s.search(SearchRequest(query="drill", rerank=False))
    assert not err.value.retriable


def test_a_passed_deadline_stops_before_the_store() -> None:
    with pytest.raises(StoreError) as err:
        _searcher(_store()).search(SearchRequest(query="drill"), time_left_s=lambda: -1.0)
    assert err.value.retriable


class DownEmbedder(WordsEmbedder):
    """The embedding server down (retriable) or refusing for good (not retriable)."""

    def __init__(self, retriable: bool = True) -> None:
        super().__init__()
        self.retriable = retriable

    def embed_documents(self, texts: Sequence[str], *, timeout_s: float | None = None) -> np.ndarray:
        from catalog_search.core.errors import EmbeddingError
        raise EmbeddingError("503 from the embedding server", retriable=self.retriable)

    embed_queries = embed_documents


@pytest.mark.parametrize("approximate", [False, True])
def test_embedding_down_answers_from_bm25_alone_and_says_so(approximate: bool) -> None:
    stage = RerankStage(None, breaker=CircuitBreaker(5, 30.0), margin_s=0.0)
    searcher = Searcher(_store(approximate=approximate), DownEmbedder(), stage)
    resp = searcher.search(SearchRequest(query="coffee grinder", rerank=False))
    assert _skus(resp) == ["P5", "P4"] and all(h.scores.dense is None for h in resp.hits)
    assert resp.degraded and "query embedding unavailable" in resp.degraded_reason
    assert "BM25 only" in resp.degraded_reason


def test_embedding_errors_that_a_fallback_cannot_hide_still_fail() -> None:
    from catalog_search.core.errors import EmbeddingError
    stage = RerankStage(None, breaker=CircuitBreaker(5, 30.0), margin_s=0.0)
    with pytest.raises(EmbeddingError):            # dense alone was asked for: nothing to fall back to
        Searcher(_store(), DownEmbedder(), stage).search(SearchRequest(query="drill", retrievers="dense"))
    with pytest.raises(EmbeddingError):            # a permanent refusal is a fault to see, not an outage
        Searcher(_store(), DownEmbedder(retriable=False), stage).search(SearchRequest(query="drill"))


def test_a_fixed_tenant_confines_every_search_whatever_the_request_sends() -> None:
    from catalog_search.retrieve.domain import InvalidRequest
    store = _store()
    emb = WordsEmbedder()
    other = [Product(sku=f"B{i}", version=1, title="cordless drill battery", brand="Acme", category="Tools",
                     price=1.0, in_stock=True, tenant="shop-b", vector=emb.embed_documents(["cordless drill battery"])[0])
             for i in range(3)]
    store.upsert([p.with_changes(embedded_text=embed_text(p)) for p in other])
    stage = RerankStage(None, breaker=CircuitBreaker(5, 30.0), margin_s=0.0)
    open_searcher = Searcher(store, WordsEmbedder(), stage)
    assert {"B0", "P1"} <= set(_skus(open_searcher.search(SearchRequest(query="cordless drill", rerank=False))))
    confined = Searcher(store, WordsEmbedder(), stage, tenant="shop-b")
    resp = confined.search(SearchRequest(query="cordless drill", rerank=False))
    assert set(_skus(resp)) == {"B0", "B1", "B2"}
    same = confined.search(SearchRequest(query="cordless drill", rerank=False, filters=SearchFilters(tenant="shop-b")))
    assert set(_skus(same)) == {"B0", "B1", "B2"}
    for asked in ("default", 'shop-b" or tenant != "', "shop-b' or '1'='1", "SHOP-B"):
        with pytest.raises(InvalidRequest) as refused:
            confined.search(SearchRequest(query="drill", filters=SearchFilters(tenant=asked)))
        assert refused.value.field == "filters.tenant"


class TimedEmbedder(WordsEmbedder):
    """Records the ``timeout_s`` each call got; fails like a timed-out server when that is shorter than its delay."""

    def __init__(self, delay_s: float = 0.0) -> None:
        super().__init__()
        self.delay_s, self.timeouts = delay_s, []

    def embed_documents(self, texts: Sequence[str], *, timeout_s: float | None = None) -> np.ndarray:
        from catalog_search.core.errors import EmbeddingError
        self.timeouts.append(timeout_s)
        if timeout_s is not None and timeout_s < self.delay_s:
            raise EmbeddingError(f"embedding server timed out after {timeout_s:.2f}s", retriable=True)
        return super().embed_documents(texts)

    embed_queries = embed_documents


class TimeoutRecordingStore(MemoryStore):
    """A memory store that records the timeout of every call the searcher makes (alias lookup included)."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.timeouts: dict[str, float | None] = {}

    def resolve_alias(self, alias: str | None = None, *, timeout: float | None = None) -> str:
        self.timeouts["alias"] = timeout
        return super().resolve_alias(alias, timeout=timeout)

    def retrieve(self, collection: str, filters: SearchFilters, **kw: Any) -> Any:
        self.timeouts["retrieve"] = kw["timeout"]
        return super().retrieve(collection, filters, **kw)


def _deadline(seconds: float) -> Any:
    import time
    end = time.monotonic() + seconds
    return lambda: end - time.monotonic()


def test_the_query_embedding_gets_the_time_left_less_the_reserve_and_bm25_answers_when_it_is_slower() -> None:
    """Regression (issue 10 part 7): the query embedding ignored the caller's deadline (30 s client timeout), so a
    slow embedding server made every search miss its deadline instead of answering from BM25."""
    stage = RerankStage(None, breaker=CircuitBreaker(5, 30.0), margin_s=0.0)
    fast = TimedEmbedder()
    Searcher(_store(), fast, stage, embed_reserve_s=0.3).search(SearchRequest(query="drill", rerank=False),
                                                                   time_left_s=_deadline(1.0))
    assert fast.timeouts and 0.5 < fast.timeouts[0] <= 0.7
    slow = TimedEmbedder(delay_s=5.0)
    resp = Searcher(_store(), slow, stage, embed_reserve_s=0.3).search(SearchRequest(query="coffee grinder",
                                                                                     rerank=False),
                                                                       time_left_s=_deadline(1.0))
    assert _skus(resp) == ["P5", "P4"] and all(h.scores.dense is None for h in resp.hits)
    assert resp.degraded and "query embedding unavailable" in resp.degraded_reason
    no_deadline = TimedEmbedder()
    Searcher(_store(), no_deadline, stage).search(SearchRequest(query="drill", rerank=False))
    assert no_deadline.timeouts == [None]                       # no deadline: the backend's own timeout


def test_no_time_for_the_embedding_answers_from_bm25_and_dense_alone_gets_all_the_time() -> None:
    stage = RerankStage(None, breaker=CircuitBreaker(5, 30.0), margin_s=0.0)
    emb = TimedEmbedder()
    resp = Searcher(_store(), emb, stage, embed_reserve_s=0.5).search(SearchRequest(query="coffee", rerank=False),
                                                                      time_left_s=_deadline(0.4))
    assert emb.calls == 0 and resp.degraded and "no time left for the query embedding" in resp.degraded_reason
    dense = TimedEmbedder()
    Searcher(_store(), dense, stage, embed_reserve_s=0.5).search(
        SearchRequest(query="coffee", rerank=False, retrievers="dense"), time_left_s=_deadline(0.4))
    assert dense.timeouts and 0.2 < dense.timeouts[0] <= 0.4  # nothing could answer without it: all the time left


def test_every_store_call_keeps_the_margin_back_from_the_deadline_alias_lookup_included() -> None:
    """Regression (issue 10 part 7): with Milvus hung, the alias lookup ran on the store's 30 s timeout and the
    searches on the full time left, so callers got DEADLINE_EXCEEDED (and handler threads stayed stuck) instead of
    UNAVAILABLE inside the deadline."""
    store = TimeoutRecordingStore(collection="live", alias="catalog", dim=DIM)
    store.ensure_collection()
    stage = RerankStage(None, breaker=CircuitBreaker(5, 30.0), margin_s=0.0)
    Searcher(store, WordsEmbedder(), stage, deadline_margin_s=0.2).search(SearchRequest(query="drill", rerank=False),
                                                                        time_left_s=_deadline(1.0))
    assert 0.6 < store.timeouts["alias"] <= 0.8 and 0.5 < store.timeouts["retrieve"] <= 0.8
    from catalog_search.core.errors import NoTimeLeftError
    with pytest.raises(NoTimeLeftError) as late:         # the servicer's DEADLINE_EXCEEDED, not UNAVAILABLE
        Searcher(store, WordsEmbedder(), stage, deadline_margin_s=0.2).search(SearchRequest(query="drill"),
                                                                            time_left_s=_deadline(0.1))
    assert late.value.retriable and "no time left" in str(late.value)
