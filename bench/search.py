"""Search benchmark: raw Milvus hybrid search vs our gRPC service, same data and query vectors, no model time.

    .venv/bin/python bench/search.py [--products 5000] [--runs 200] [--seconds 5] [--json out.json]

Starts a Milvus Lite 2.5.1 server in a temp dir, loads ``--products`` rows through the real ingest pipeline (the
bundled sample catalog replicated under new skus; each distinct text embedded once by the local model), embeds the
benchmark queries once, then measures in one run:
  1. raw Milvus hybrid search (pymilvus ``hybrid_search``: dense + BM25, same tombstone filter, RRF k=60, top 10);
  2. our service end to end through gRPC (``SearchClient`` -> server -> Searcher -> Milvus) with the precomputed query
     vectors (a lookup embedder) and rerank off, so neither side spends model time;
  3. p50/p99 of both and their ratio, and the service's QPS at 1, 8 and 32 concurrent clients.
On Milvus Lite (FLAT, an exact index) the service's filtered dense search is exact at every size, so it needs no
count and no exact scan; with an approximate index (HNSW on a server) a filter matching at most
``CATALOG_SEARCH_EXACT_THRESHOLD`` (2000) products is counted and scanned exactly instead.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from pymilvus import AnnSearchRequest, MilvusClient, RRFRanker  # noqa: E402

from bench.common import add_json_arg, emit, percentile, ratio, rnd, sample_products  # noqa: E402
from catalog_search.adapters.embedding.local import LocalEmbedder  # noqa: E402
from catalog_search.core.events import event_from_dict  # noqa: E402
from catalog_search.app.localstack import MilvusLiteServer, free_port  # noqa: E402
from catalog_search.core.settings import load_settings  # noqa: E402
from catalog_search.adapters.milvus.store import MilvusStore  # noqa: E402
from catalog_search.ingest.pipeline import Pipeline  # noqa: E402
from catalog_search.rerank.stage import make_rerank_stage  # noqa: E402
from catalog_search.retrieve.client import SearchClient  # noqa: E402
from catalog_search.retrieve.searcher import Searcher  # noqa: E402
from catalog_search.retrieve.server import start  # noqa: E402

QUERIES = ["无线降噪耳机", "running shoes for men", "air fryer", "纯棉T恤", "cordless drill", "laptop backpack",
           "面霜 保湿", "yoga mat", "coffee machine", "儿童积木", "stainless steel water bottle", "wireless mouse",
           "sofa", "小说", "lipstick", "camping tent", "机械键盘", "smart watch", "vacuum cleaner", "dumbbells"]


class CachingEmbedder:
    """Embeds each distinct text once with the real model (loading replicated rows), then serves from memory."""

    def __init__(self, inner) -> None:
        self.inner, self.cache = inner, {}
        self.model_id, self.dim = inner.model_id, inner.dim

    def embed_documents(self, texts):
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            self.cache.update(zip(missing, self.inner.embed_documents(missing)))
        return np.stack([self.cache[t] for t in texts])

    def embed_queries(self, texts):
        return np.stack([self.cache[("q", t)] for t in texts])

    def close(self):
        pass


def timed(fn, n: int) -> list[float]:
    out = []
    for i in range(n):
        started = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - started) * 1000)
    return out


def qps(address: str, clients: int, seconds: float) -> float:
    done = [0] * clients
    stop = time.monotonic() + seconds

    def run(slot: int) -> None:
        with SearchClient(address, timeout_s=10) as client:
            i = slot
            while time.monotonic() < stop:
                client.search(QUERIES[i % len(QUERIES)], top_k=10, rerank=False)
                done[slot] += 1
                i += 1

    threads = [threading.Thread(target=run, args=(slot,)) for slot in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / seconds


def run(n_products: int = 5000, runs: int = 200, seconds: float = 5.0,
        clients: tuple[int, ...] = (1, 8, 32)) -> dict[str, Any]:
    base = sample_products()
    events = [event_from_dict({**base[i % len(base)], "sku": f"S{i:07d}"}) for i in range(n_products)]
    embedder = CachingEmbedder(LocalEmbedder())
    for query, vector in zip(QUERIES, embedder.inner.embed_queries(QUERIES)):
        embedder.cache[("q", query)] = vector

    with tempfile.TemporaryDirectory() as tmp, MilvusLiteServer(Path(tmp), free_port()) as milvus:
        settings = load_settings(milvus_uri=milvus.uri, grpc_address=f"127.0.0.1:{free_port()}",
                                 rerank_backend="none", query_cache_size=0)
        store = MilvusStore.from_settings(settings)
        store.ensure_collection()
        pipeline = Pipeline(embedder, store)
        for i in range(0, len(events), 500):
            pipeline.process(events[i:i + 500])

        raw = MilvusClient(milvus.uri)
        vectors = {q: embedder.cache[("q", q)].tolist() for q in QUERIES}
        fields = ["sku", "title", "brand", "category", "price", "currency", "in_stock"]

        def raw_search(i: int) -> None:
            q = QUERIES[i % len(QUERIES)]
            raw.hybrid_search(settings.milvus.collection, [
                AnnSearchRequest([vectors[q]], "dense", {"metric_type": "COSINE"}, 100, expr="deleted == false"),
                AnnSearchRequest([q], "sparse", {"metric_type": "BM25"}, 100, expr="deleted == false")],
                RRFRanker(60), limit=10, output_fields=fields)

        searcher = Searcher(store, embedder, make_rerank_stage(settings.rerank, None), candidates=settings.search.candidates,
                            exact_threshold=settings.search.exact_threshold, cache=None)
        exact_index = store.dense_is_exact(settings.milvus.collection)
        server = start(settings, searcher)
        try:
            client = SearchClient(settings.grpc.address, timeout_s=10)
            for i in range(20):                                   # warm-up both paths
                raw_search(i)
                client.search(QUERIES[i % len(QUERIES)], rerank=False)
            raw_ms = timed(raw_search, runs)
            service_ms = timed(lambda i: client.search(QUERIES[i % len(QUERIES)], top_k=10, rerank=False), runs)
            client.close()
            throughput = {n: qps(settings.grpc.address, n, seconds) for n in clients}
        finally:
            server.stop()
            raw.close()

    raw50, raw99 = percentile(raw_ms, 50), percentile(raw_ms, 99)
    svc50, svc99 = percentile(service_ms, 50), percentile(service_ms, 99)
    return {
        "products": n_products, "queries": len(QUERIES), "runs": runs, "qps_seconds": seconds,
        "service_path": ("FLAT index: Milvus' filtered search is exact (no count, no scan)" if exact_index
                         else "exact scan" if n_products <= settings.search.exact_threshold else "ANN (hybrid)"),
        "raw_hybrid_p50_ms": rnd(raw50, 2), "raw_hybrid_p99_ms": rnd(raw99, 2),
        "service_p50_ms": rnd(svc50, 2), "service_p99_ms": rnd(svc99, 2),
        "service_over_raw_p50": ratio(svc50, raw50, 2), "service_over_raw_p99": ratio(svc99, raw99, 2),
        **{f"qps_{n}_clients": rnd(v) for n, v in throughput.items()},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per QPS measurement")
    add_json_arg(parser)
    args = parser.parse_args(argv)
    emit(run(args.products, args.runs, args.seconds), args.json)


if __name__ == "__main__":
    main()
