"""SearchMetrics as the searcher's observer: stage histograms and degraded answers by bounded kind (pure)."""

from catalog_search.retrieve.domain import SearchResponse
from catalog_search.retrieve.metrics import SearchMetrics, degraded_kind


def test_degraded_reasons_map_to_a_bounded_set_of_kinds():
    assert degraded_kind("query embedding unavailable (EmbeddingError: 503); BM25 only") == "embedding"
    assert degraded_kind("rerank timed out after 0.8 s") == "rerank"
    assert degraded_kind("something new") == "other"


def test_searched_observes_every_stage_and_each_degradation():
    m = SearchMetrics()
    m.searched(SearchResponse(hits=[], degraded=True, timings_ms={"dense": 2.0, "total": 5.0},
                              degraded_reason="query embedding unavailable (x); BM25 only; rerank breaker open"))
    value = m.registry.get_sample_value
    assert value("catalog_search_stage_seconds_count", {"stage": "dense"}) == 1
    assert value("catalog_search_stage_seconds_sum", {"stage": "total"}) == 0.005
    assert value("catalog_search_degraded_total", {"kind": "embedding"}) == 1
    assert value("catalog_search_degraded_total", {"kind": "rerank"}) == 1
