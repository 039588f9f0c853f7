"""Re-measure the Milvus Lite choice: upsert throughput and hybrid-search latency on a catalog-like collection.

Standalone on purpose (imports neither ``catalog`` nor its settings) so it runs in any virtualenv that has pymilvus,
milvus-lite and numpy, e.g. the project venv (pymilvus 2.5 + milvus-lite 2.5.1) and one with pymilvus 3 +
milvus-lite 3.2.2:

    .venv/bin/python bench/milvus_lite_choice.py --rows 5000 [--json out.json]
    /tmp/vtest/m32/bin/python bench/milvus_lite_choice.py --rows 5000

``run_all.py`` runs it with the project venv only (the 3.2.2 side needs its own virtualenv).

The collection mirrors ``catalog.store.schema``: VARCHAR sku primary key, an analyzed ``embed_text`` with a BM25
function into a sparse field, scalar filter fields, ARRAY<VARCHAR> category levels, JSON attributes and a dense
FLOAT_VECTOR (FLAT, COSINE; Lite has no HNSW). The analyzer falls back to plain ``{"tokenizer": "jieba"}`` when the
engine rejects the filters (3.2.2 only knows the "standard" and "jieba" tokenizers, and its jieba needs the
``jieba`` Python package), then to the standard tokenizer. By default Lite runs
in-process (a ``*.db`` path); ``--uri http://127.0.0.1:19530`` measures a running server instead.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid

import numpy as np
from pymilvus import AnnSearchRequest, DataType, Function, FunctionType, MilvusClient, RRFRanker

ANALYZERS = [
    {"tokenizer": "jieba", "filter": ["lowercase", "cnalphanumonly", {"type": "stop", "stop_words": ["_english_"]},
                                      {"type": "stemmer", "language": "english"}]},
    {"tokenizer": "jieba"},
    {"tokenizer": "standard", "filter": ["lowercase"]},   # 3.2.2 without the `jieba` Python package
    {"tokenizer": "standard"},
]
WORDS_EN = ("running shoes trail men women waterproof ceramic coffee mug kitchen steel bottle insulated cotton shirt "
            "linen dress wireless earbuds charger usb cable leather wallet backpack travel lamp desk office").split()
WORDS_ZH = "跑步鞋 男士 女士 防水 陶瓷 咖啡杯 厨房 不锈钢 保温杯 纯棉 衬衫 亚麻 连衣裙 无线 耳机 充电器 皮革 钱包 背包 台灯 办公".split()
CATEGORIES = ["Shoes > Running", "Shoes > Running > Trail", "Home > Kitchen > Mugs", "Home > Lighting",
              "Apparel > Shirts", "Apparel > Dresses", "Electronics > Audio", "Bags > Backpacks"]


def version_of(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def make_schema(client: MilvusClient, dim: int, analyzer: dict):
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("sku", DataType.VARCHAR, max_length=256, is_primary=True)
    schema.add_field("tenant", DataType.VARCHAR, max_length=64)
    schema.add_field("title", DataType.VARCHAR, max_length=2048)
    schema.add_field("embed_text", DataType.VARCHAR, max_length=8192, enable_analyzer=True, analyzer_params=analyzer)
    schema.add_field("category", DataType.VARCHAR, max_length=1024)
    schema.add_field("category_levels", DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=8,
                     max_length=1024)
    schema.add_field("price", DataType.DOUBLE)
    schema.add_field("in_stock", DataType.BOOL)
    schema.add_field("attributes", DataType.JSON)
    schema.add_field("version", DataType.INT64)
    schema.add_field("deleted", DataType.BOOL)
    schema.add_field("dense", DataType.FLOAT_VECTOR, dim=dim)
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(Function(name="embed_text_bm25", function_type=FunctionType.BM25,
                                 input_field_names=["embed_text"], output_field_names=["sparse"]))
    return schema


def make_index_params(client: MilvusClient):
    params = client.prepare_index_params()
    params.add_index("dense", index_type="FLAT", metric_type="COSINE")
    params.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
    return params


def create(client: MilvusClient, name: str, dim: int) -> dict:
    last: Exception | None = None
    for analyzer in ANALYZERS:
        try:
            if client.has_collection(name):
                client.drop_collection(name)
            client.create_collection(name, schema=make_schema(client, dim, analyzer),
                                     index_params=make_index_params(client))
            client.load_collection(name)
            return analyzer
        except Exception as exc:  # noqa: BLE001 - try the simpler analyzer
            last = exc
            print(f"analyzer {analyzer} rejected: {str(exc)[:200]}", file=sys.stderr)
    raise SystemExit(f"cannot create the collection: {last}")


def random_rows(rng: np.random.Generator, start: int, n: int, dim: int) -> list[dict]:
    vectors = rng.standard_normal((n, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    rows = []
    for i in range(n):
        category = CATEGORIES[int(rng.integers(len(CATEGORIES)))]
        parts = category.split(" > ")
        words = list(rng.choice(WORDS_EN, 6)) + list(rng.choice(WORDS_ZH, 4))
        title = " ".join(words[:5])
        rows.append({
            "sku": f"SKU-{start + i:08d}", "tenant": "bench", "title": title,
            "embed_text": f"{title}\nCategory: {category}\n{' '.join(words)}",
            "category": category, "category_levels": [" > ".join(parts[: k + 1]) for k in range(len(parts))],
            "price": float(rng.uniform(1, 500)), "in_stock": bool(rng.integers(2)),
            "attributes": {"color": str(rng.choice(["red", "黑色", "blue"]))}, "version": 1, "deleted": False,
            "dense": vectors[i].tolist(),
        })
    return rows


def run(rows: int = 5000, dim: int = 384, batch: int = 256, queries: int = 50, topk: int = 20,
        uri: str = "") -> dict:
    """Upsert ``rows`` rows, then time ``queries`` filtered hybrid searches; the figures as a dict."""
    tmp = None
    if not uri:
        tmp = tempfile.mkdtemp(prefix="lite-bench-")
        uri = os.path.join(tmp, "bench.db")
    client = MilvusClient(uri)
    name = f"bench_{uuid.uuid4().hex[:8]}"
    rng = np.random.default_rng(42)
    out: dict = {"pymilvus": version_of("pymilvus"), "milvus_lite": version_of("milvus-lite"),
                 "python": sys.version.split()[0], "uri": "in-process Lite (temp *.db)" if tmp else uri,
                 "rows": rows, "dim": dim, "batch": batch, "queries": queries, "topk": topk}
    print(f"pymilvus {out['pymilvus']}, milvus-lite {out['milvus_lite']}, python {out['python']}, uri {uri}")
    try:
        t0 = time.perf_counter()
        analyzer = create(client, name, dim)
        out["create_load_s"] = round(time.perf_counter() - t0, 2)
        out["analyzer"] = analyzer
        print(f"create+load: {out['create_load_s']:.2f}s, analyzer {analyzer}")

        data = random_rows(rng, 0, rows, dim)
        t0 = time.perf_counter()
        for i in range(0, len(data), batch):
            client.upsert(name, data[i:i + batch])
        upsert_s = time.perf_counter() - t0
        out["upsert_rows_per_s"] = round(rows / upsert_s, 1)
        print(f"upsert: {rows} rows in {upsert_s:.2f}s = {rows / upsert_s:,.0f} rows/s (batch {batch})")
        # time-to-visible: a strong count sees every row
        t0 = time.perf_counter()
        count = client.query(name, filter="", output_fields=["count(*)"], consistency_level="Strong")[0]["count(*)"]
        out["strong_count_ms"] = round((time.perf_counter() - t0) * 1000, 1)
        print(f"count(*) = {count} ({out['strong_count_ms']:.1f} ms)")

        latencies = []
        expr = 'deleted == false and array_contains(category_levels, "Shoes")'
        for q in random_rows(rng, 10**7, queries, dim):
            dense = AnnSearchRequest([q["dense"]], "dense", {"metric_type": "COSINE", "params": {}}, topk, expr=expr)
            sparse = AnnSearchRequest([q["title"]], "sparse", {"metric_type": "BM25", "params": {}}, topk,
                                      expr=expr)
            t0 = time.perf_counter()
            client.hybrid_search(name, [dense, sparse], RRFRanker(60), limit=topk,
                                 output_fields=["sku", "title", "price"])
            latencies.append((time.perf_counter() - t0) * 1000)
        latencies.sort()
        p95 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))]
        out["hybrid_p50_ms"] = round(statistics.median(latencies), 2)
        out["hybrid_p95_ms"] = round(p95, 2)
        print(f"hybrid_search (dense+BM25, RRF, filter, top {topk}): p50 {out['hybrid_p50_ms']:.1f} ms, "
              f"p95 {p95:.1f} ms over {len(latencies)} queries")
    finally:
        try:
            client.drop_collection(name)
        finally:
            client.close()
            if tmp:
                shutil.rmtree(tmp, ignore_errors=True)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=5000)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--batch", type=int, default=256, help="rows per upsert call")
    ap.add_argument("--queries", type=int, default=50)
    ap.add_argument("--topk", type=int, default=20)
    ap.add_argument("--uri", default="", help="Milvus URI; default: a fresh in-process Lite *.db in a temp dir")
    ap.add_argument("--json", default="", metavar="PATH", help="also write the figures as JSON to PATH")
    args = ap.parse_args(argv)
    out = run(args.rows, args.dim, args.batch, args.queries, args.topk, args.uri)
    print(json.dumps(out))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(out, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
