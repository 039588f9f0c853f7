"""What grouping, facets, pages and sorts cost next to a plain search, measured in one run.

    .venv/bin/python bench/shaping.py [--products 5000] [--runs 100] [--json out.json]

Data: real Home Depot product titles (``bench.common.homedepot_products``: brand = the title's first word, 33
synthetic departments, deterministic prices and stock) in variant groups of three consecutive products
(``group_id``), loaded through the real ingest pipeline into a Milvus Lite 2.5.1 server with the zero-cost
``SyntheticEmbedder`` control (a latency-only run: no model time, no relevance). Queries: real Home Depot shopper
queries. Every request goes through gRPC (``SearchClient`` -> server -> ``Searcher`` -> Milvus), rerank off; the
variants are interleaved query by query (plain, grouped, ...), so drift hits them alike:

* ``plain``          top 10 (each retriever ``candidates`` = 100 deep);
* ``grouped``        top 10 groups of the result set (each retriever ``CATALOG_SEARCH_RESULT_DEPTH`` = 200 deep);
* ``facets``         brand, category, price, in_stock, locale over the result set (no filter);
* ``facets_own``     the same with a brand and a price filter set: those two facets are counted without their own
                     filter (two more retrievals);
* ``page_sorted``    page 2 (page size 10) of the result set sorted by price_asc;
* ``everything``     grouped + the five facets + page 1 + price_asc.

Reported: p50 / p95 client latency (ms), the ratio of each p50 to plain's, and the server's ``facets`` / ``shape``
stage p50.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import add_json_arg, emit, homedepot_products, homedepot_queries, percentile, ratio, rnd  # noqa: E402
from bench.controls import SyntheticEmbedder  # noqa: E402
from catalog_search.adapters.milvus.store import MilvusStore  # noqa: E402
from catalog_search.app.localstack import MilvusLiteServer, free_port  # noqa: E402
from catalog_search.core.events import event_from_dict  # noqa: E402
from catalog_search.core.settings import load_settings  # noqa: E402
from catalog_search.ingest.pipeline import Pipeline  # noqa: E402
from catalog_search.rerank.stage import make_rerank_stage  # noqa: E402
from catalog_search.retrieve.client import SearchClient  # noqa: E402
from catalog_search.retrieve.searcher import Searcher  # noqa: E402
from catalog_search.retrieve.server import start  # noqa: E402

DIM = 1024
FACETS = ["brand", "category", "price", "in_stock", "locale"]


def variants(client: SearchClient, tokens: dict[str, str]) -> dict[str, Callable[[str], Any]]:
    """Each variant as a call; ``page_sorted`` asks for page 2 with the page-1 token of ``tokens`` (fetched untimed)."""
    def page2(query: str) -> Any:
        return client.search(query, page_size=10, sort="price_asc", rerank=False, page_token=tokens[query])

    return {
        "plain": lambda q: client.search(q, top_k=10, rerank=False),
        "grouped": lambda q: client.search(q, top_k=10, rerank=False, group_by="group_id"),
        "facets": lambda q: client.search(q, top_k=10, rerank=False, facets=FACETS),
        "facets_own": lambda q: client.search(q, top_k=10, rerank=False, facets=FACETS, brands=["Hampton", "GE"],
                                              price_max=200.0),
        "page_sorted": page2,
        "everything": lambda q: client.search(q, page_size=10, rerank=False, group_by="group_id", facets=FACETS,
                                              sort="price_asc"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=100, help="queries per variant")
    add_json_arg(parser)
    args = parser.parse_args()

    products = homedepot_products(args.products)
    for i, p in enumerate(products):
        p["group_id"] = f"G{i // 3:06d}"                      # three consecutive products form one listing
    queries = homedepot_queries(args.runs)
    with tempfile.TemporaryDirectory() as tmp, MilvusLiteServer(Path(tmp), free_port()) as milvus:
        settings = load_settings(milvus_uri=milvus.uri, grpc_address=f"127.0.0.1:{free_port()}",
                                 rerank_backend="none", query_cache_size=0)
        m = settings.milvus
        store = MilvusStore(uri=m.uri, collection=m.collection, alias=m.alias, dim=DIM, timeout_s=m.timeout_s,
                            analyzer="english")
        store.ensure_collection()
        embedder = SyntheticEmbedder(DIM)
        pipeline = Pipeline(embedder, store)
        for i in range(0, len(products), 1000):
            pipeline.process([event_from_dict({**p, "op": "upsert", "version": 1}) for p in products[i:i + 1000]])
        s = settings.search
        searcher = Searcher(store, embedder, make_rerank_stage(settings.rerank, None), candidates=s.candidates,
                            exact_threshold=s.exact_threshold, result_depth=s.result_depth, cache=None)
        server = start(settings, searcher)
        try:
            with SearchClient(settings.grpc.address, timeout_s=30) as client:
                tokens = {q: client.search(q, page_size=10, sort="price_asc", rerank=False).next_page_token
                          for q in queries}
                runs = variants(client, tokens)
                for q in queries[:10]:                            # warm-up every path
                    for run in runs.values():
                        run(q)
                ms: dict[str, list[float]] = {name: [] for name in runs}
                stages: dict[str, list[float]] = {"facets": [], "shape": []}
                for q in queries:
                    for name, run in runs.items():
                        started = time.perf_counter()
                        resp = run(q)
                        ms[name].append((time.perf_counter() - started) * 1000)
                        if name == "facets_own":
                            stages["facets"].append(resp.timings_ms.get("facets", 0.0))
                        if name == "everything":
                            stages["shape"].append(resp.timings_ms.get("shape", 0.0))
        finally:
            server.stop(1.0)
            store.close()
    plain = percentile(ms["plain"], 50)
    report: dict[str, Any] = {"products": len(products), "groups": (len(products) + 2) // 3, "runs": len(queries),
                              "result_depth": settings.search.result_depth, "candidates": settings.search.candidates}
    for name, values in ms.items():
        p50 = percentile(values, 50)
        report[f"{name}_p50_ms"] = rnd(p50, 2)
        report[f"{name}_p95_ms"] = rnd(percentile(values, 95), 2)
        report[f"{name}_vs_plain"] = ratio(p50, plain, 2)
    report["facets_own_filter_stage_p50_ms"] = rnd(percentile(stages["facets"], 50), 2)
    report["everything_shape_stage_p50_ms"] = rnd(percentile(stages["shape"], 50), 2)
    emit(report, args.json)


if __name__ == "__main__":
    main()
