"""Search benchmark: raw Milvus hybrid search vs our gRPC service, same data and query vectors, no model time.

    .venv/bin/python bench/search.py [--sizes 1500,5000,20000,50000] [--runs 200] [--clients 1,4,16,32]
                                     [--clients-at 5000] [--seconds 3] [--json out.json]

Data: real Home Depot product titles (read in place from ../shared; brand = the title's first word, 33 synthetic
departments) loaded through the real ingest pipeline into a Milvus Lite 2.5.1 server, with **synthetic 1024-d
vectors** (``bench.controls.SyntheticEmbedder``, the labelled zero-cost embedder control): a latency-only run, no
relevance. Queries: real Home Depot shopper queries; the same text gives the same query vector on both sides, so
neither spends model time. The catalog grows size by size in one collection; at each size, in one run:

1. raw Milvus ``hybrid_search`` (dense + BM25 over the same tombstone filter, RRF k=60, 100 per side, top 10, the
   display fields as ``output_fields``: what a caller that shows results needs);
2. our service end to end through gRPC (``SearchClient`` -> server -> ``Searcher`` -> Milvus), rerank off, top 10,
   with the service's own per-stage timings (p50 of each) and the gRPC + proto share (client time - server total);
3. the same two with a selective filter: one department (~1/33 of the catalog, ~1,500 products at 50,000);
4. at ``--clients-at`` products: p50 / p99 / QPS of the service at each ``--clients`` count.

On Milvus Lite (FLAT, an exact index) a filtered dense search is exact at every size: no count and no exact scan.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pymilvus import AnnSearchRequest, MilvusClient, RRFRanker  # noqa: E402

from bench.common import (add_json_arg, department, emit, homedepot_products, homedepot_queries,  # noqa: E402
                          percentile, ratio, rnd)
from bench.controls import SyntheticEmbedder  # noqa: E402
from catalog_search.adapters.milvus.store import MilvusStore  # noqa: E402
from catalog_search.app.localstack import MilvusLiteServer, free_port  # noqa: E402
from catalog_search.core.events import event_from_dict  # noqa: E402
from catalog_search.core.filters import CategoryFilter  # noqa: E402
from catalog_search.core.settings import load_settings  # noqa: E402
from catalog_search.ingest.pipeline import Pipeline  # noqa: E402
from catalog_search.rerank.stage import make_rerank_stage  # noqa: E402
from catalog_search.retrieve.client import SearchClient  # noqa: E402
from catalog_search.retrieve.searcher import Searcher  # noqa: E402
from catalog_search.retrieve.server import start  # noqa: E402

DIM = 1024
DISPLAY = ["sku", "title", "brand", "category", "price", "currency", "in_stock"]
LOAD_BATCH = 1000


def timed(fn: Callable[[int], Any], n: int) -> list[float]:
    out = []
    for i in range(n):
        started = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - started) * 1000)
    return out


def summary(ms: Sequence[float]) -> dict[str, float | None]:
    return {"p50_ms": rnd(percentile(ms, 50), 2), "p99_ms": rnd(percentile(ms, 99), 2)}


def under_load(address: str, queries: Sequence[str], clients: int, seconds: float) -> dict[str, Any]:
    """``clients`` threads, each with its own channel, searching back to back for ``seconds``."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    stop = time.monotonic() + seconds

    def run(slot: int) -> None:
        with SearchClient(address, timeout_s=10) as client:
            i = slot
            while time.monotonic() < stop:
                started = time.perf_counter()
                try:
                    client.search(queries[i % len(queries)], top_k=10, rerank=False)
                    latencies[slot].append((time.perf_counter() - started) * 1000)
                except Exception:  # noqa: BLE001 - counted, reported
                    errors[slot] += 1
                i += 1

    threads = [threading.Thread(target=run, args=(slot,)) for slot in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    flat = [x for xs in latencies for x in xs]
    return {"clients": clients, "qps": rnd(len(flat) / seconds), "errors": sum(errors), **summary(flat)}


class Bench:
    """One Milvus Lite server, one growing collection, the raw client and our service side by side."""

    def __init__(self, milvus_uri: str, queries: Sequence[str]) -> None:
        self.settings = load_settings(milvus_uri=milvus_uri, grpc_address=f"127.0.0.1:{free_port()}",
                                      rerank_backend="none", query_cache_size=0)
        m = self.settings.milvus                                  # the store at the production width (1024-d)
        self.store = MilvusStore(uri=m.uri, collection=m.collection, alias=m.alias, dim=DIM, index=m.index,
                                 timeout_s=m.timeout_s, analyzer="english")
        self.store.ensure_collection()
        self.embedder = SyntheticEmbedder(DIM)
        self.pipeline = Pipeline(self.embedder, self.store)
        self.queries = list(queries)
        self.vectors = {q: self.embedder.embed_queries([q])[0].tolist() for q in self.queries}
        self.raw = MilvusClient(milvus_uri)
        self.collection = self.store.resolve_alias(self.store.alias)
        self.loaded = 0
        searcher = Searcher(self.store, self.embedder, make_rerank_stage(self.settings.rerank, None),
                            candidates=self.settings.search.candidates,
                            exact_threshold=self.settings.search.exact_threshold, cache=None)
        self.exact_index = self.store.dense_is_exact(self.collection)
        self.server = start(self.settings, searcher)
        self.client = SearchClient(self.settings.grpc.address, timeout_s=10)

    def load(self, products: Sequence[dict[str, Any]]) -> float:
        started = time.perf_counter()
        for i in range(0, len(products), LOAD_BATCH):
            self.pipeline.process([event_from_dict({**p, "op": "upsert", "version": 1})
                                   for p in products[i:i + LOAD_BATCH]])
        self.loaded += len(products)
        return time.perf_counter() - started

    def raw_search(self, query: str, expr: str) -> None:
        depth = self.settings.search.candidates
        self.raw.hybrid_search(self.collection, [
            AnnSearchRequest([self.vectors[query]], "dense", {"metric_type": "COSINE"}, depth, expr=expr),
            AnnSearchRequest([query], "sparse", {"metric_type": "BM25"}, depth, expr=expr)],
            RRFRanker(60), limit=10, output_fields=DISPLAY)

    def measure(self, runs: int, filters: dict[str, Any], expr: str) -> dict[str, Any]:
        qs = self.queries
        for i in range(20):                                       # warm-up both paths
            self.raw_search(qs[i % len(qs)], expr)
            self.client.search(qs[i % len(qs)], top_k=10, rerank=False, **filters)
        raw_ms = timed(lambda i: self.raw_search(qs[i % len(qs)], expr), runs)
        service_ms: list[float] = []
        stages: dict[str, list[float]] = {}
        overhead: list[float] = []
        for i in range(runs):
            started = time.perf_counter()
            resp = self.client.search(qs[i % len(qs)], top_k=10, rerank=False, **filters)
            took = (time.perf_counter() - started) * 1000
            service_ms.append(took)
            for stage, ms in resp.timings_ms.items():
                stages.setdefault(stage, []).append(ms)
            overhead.append(took - resp.timings_ms.get("total", 0.0))
        raw, svc = summary(raw_ms), summary(service_ms)
        return {"raw": raw, "service": svc,
                "over_raw_p50": ratio(svc["p50_ms"], raw["p50_ms"], 2),
                "over_raw_p99": ratio(svc["p99_ms"], raw["p99_ms"], 2),
                "stages_p50_ms": {k: rnd(percentile(v, 50), 3) for k, v in stages.items()},
                "grpc_proto_p50_ms": rnd(percentile(overhead, 50), 3)}

    def close(self) -> None:
        self.client.close()
        self.server.stop()
        self.raw.close()
        self.store.close()


def run(sizes: Sequence[int] = (1500, 5000, 20000, 50000), runs: int = 200,
        clients: Sequence[int] = (1, 4, 16, 32), clients_at: int = 5000, seconds: float = 3.0) -> dict[str, Any]:
    sizes = sorted(set(sizes))
    products = homedepot_products(max(sizes))
    queries = homedepot_queries(40)
    selective = {"categories": [CategoryFilter(department(7), prefix=False)]}
    selective_expr = f'deleted == false and category == "{department(7)}"'
    out: dict[str, Any] = {"sizes": [], "concurrency": [], "runs": runs, "queries": len(queries),
                           "dim": DIM, "vectors": "synthetic (zero-cost embedder control)"}
    with tempfile.TemporaryDirectory() as tmp, MilvusLiteServer(Path(tmp), free_port()) as milvus:
        bench = Bench(milvus.uri, queries)
        try:
            out["dense_index_exact"] = bench.exact_index
            for size in sizes:
                load_s = bench.load(products[bench.loaded:size])
                matching = sum(p["category"] == department(7) for p in products[:size])
                row = {"products": size, "load_s": rnd(load_s, 1),
                       "plain": bench.measure(runs, {}, "deleted == false"),
                       "selective": {"matching": matching, **bench.measure(runs, selective, selective_expr)}}
                out["sizes"].append(row)
                print(f"{size:>7,} products: service {row['plain']['service']} raw {row['plain']['raw']} "
                      f"x{row['plain']['over_raw_p50']} | selective ({matching}) {row['selective']['service']}",
                      flush=True)
                if size == clients_at or (size == sizes[-1] and clients_at not in sizes and not out["concurrency"]):
                    out["clients_at"] = size
                    out["concurrency"] = [under_load(bench.settings.grpc.address, queries, n, seconds)
                                          for n in clients]
        finally:
            bench.close()
    return out


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=_ints, default=[1500, 5000, 20000, 50000])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--clients", type=_ints, default=[1, 4, 16, 32])
    parser.add_argument("--clients-at", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds per concurrency level")
    add_json_arg(parser)
    args = parser.parse_args(argv)
    emit(run(args.sizes, args.runs, args.clients, args.clients_at, args.seconds), args.json)


if __name__ == "__main__":
    main()
