"""Search benchmark: raw Milvus hybrid search vs our gRPC service, same data and query vectors, no model time.

    .venv/bin/python bench/search.py [--products 5000] [--seconds 5]

Starts a Milvus Lite 2.5.1 server in a temp dir, loads ``--products`` rows through the real ingest pipeline (the
bundled sample catalog replicated under new skus; each distinct text embedded once by the local model), embeds the
benchmark queries once, then measures in one run:
  1. raw Milvus hybrid search (pymilvus ``hybrid_search``: dense + BM25, same tombstone filter, RRF k=60, top 10);
  2. our service end to end through gRPC (``SearchClient`` -> server -> Searcher -> Milvus) with the precomputed query
     vectors (a lookup embedder) and rerank off, so neither side spends model time;
  3. p50/p99 of both and their ratio, and the service's QPS at 1, 8 and 32 concurrent clients.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from pymilvus import AnnSearchRequest, MilvusClient, RRFRanker  # noqa: E402

from catalog.embedding.local import LocalEmbedder  # noqa: E402
from catalog.events import event_from_dict  # noqa: E402
from catalog.localstack import MilvusLiteServer, free_port  # noqa: E402
from catalog.settings import load_settings  # noqa: E402
from catalog.store.milvus import MilvusStore  # noqa: E402
from ingest.pipeline import Pipeline  # noqa: E402
from rerank.stage import make_rerank_stage  # noqa: E402
from retrieve.client import SearchClient  # noqa: E402
from retrieve.searcher import Searcher  # noqa: E402
from retrieve.server import start  # noqa: E402

SAMPLE = Path(__file__).resolve().parents[1] / "catalog" / "data" / "sample_catalog.jsonl"
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


def percentile(values: list[float], p: float) -> float:
    return float(np.percentile(values, p))


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()

    base = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]
    events = [event_from_dict({**base[i % len(base)], "sku": f"S{i:07d}"}) for i in range(args.products)]
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
            raw.hybrid_search(settings.milvus_collection, [
                AnnSearchRequest([vectors[q]], "dense", {"metric_type": "COSINE"}, 100, expr="deleted == false"),
                AnnSearchRequest([q], "sparse", {"metric_type": "BM25"}, 100, expr="deleted == false")],
                RRFRanker(60), limit=10, output_fields=fields)

        searcher = Searcher(store, embedder, make_rerank_stage(settings), candidates=settings.search_candidates,
                            exact_threshold=settings.search_exact_threshold, cache=None)
        server = start(settings, searcher)
        try:
            client = SearchClient(settings.grpc_address, timeout_s=10)
            for i in range(20):                                   # warm-up both paths
                raw_search(i)
                client.search(QUERIES[i % len(QUERIES)], rerank=False)
            raw_ms = timed(raw_search, args.runs)
            service_ms = timed(lambda i: client.search(QUERIES[i % len(QUERIES)], top_k=10, rerank=False), args.runs)
            client.close()
            throughput = {n: qps(settings.grpc_address, n, args.seconds) for n in (1, 8, 32)}
        finally:
            server.stop()
            raw.close()

    report = {
        "date": time.strftime("%Y-%m-%d"), "machine": f"{platform.machine()}, {len(__import__('os').sched_getaffinity(0))} cpu",
        "products": args.products, "queries": len(QUERIES), "runs": args.runs,
        "raw_hybrid_p50_ms": round(statistics.median(raw_ms), 2), "raw_hybrid_p99_ms": round(percentile(raw_ms, 99), 2),
        "service_p50_ms": round(statistics.median(service_ms), 2),
        "service_p99_ms": round(percentile(service_ms, 99), 2),
        "service_over_raw_p50": round(statistics.median(service_ms) / statistics.median(raw_ms), 2),
        "service_over_raw_p99": round(percentile(service_ms, 99) / percentile(raw_ms, 99), 2),
        **{f"qps_{n}_clients": round(v, 1) for n, v in throughput.items()},
    }
    width = max(map(len, report))
    for key, value in report.items():
        print(f"{key:<{width}}  {value}")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
