"""The arithmetic of docs/scaling.md: every number in its tables comes from the assumptions below.

    python scripts/scaling_tables.py                       # print the tables
    python scripts/scaling_tables.py --write docs/scaling.md   # rewrite them between the markers

tests/deploy/test_scaling_doc.py keeps the document equal to this output. Change an assumption here (and say why in
the document), not a number there.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass

GB = 1e9
GIB = 2**30

# -- assumptions (estimates unless said otherwise) --------------------------------------------------------------------
PARAMS = 4.0e9                       # Qwen3-Embedding-4B and Qwen3-Reranker-4B
FLOP_PER_TOKEN = 2 * PARAMS          # forward pass, dense matmuls: 8 GFLOP/token
GPU_PEAK_FLOPS = 990e12              # H100 / H200 SXM, dense BF16
GPU_UTILISATION = 0.35               # realistic for short sequences (30-40 %)
EMBED_TOKENS = 40                    # tokens per product text, the planning figure of docs/benchmarks.md
EMBED_TOKENS_SAMPLE = 85             # measured on app/data/sample_catalog.jsonl with a proxy tokenizer (see doc)
QUERY_TOKENS = 30                    # instruction (~20) + query (~10)
RERANK_CANDIDATES = 100              # CATALOG_SEARCH_CANDIDATES
RERANK_PAIR_TOKENS = 120             # template + query + document of one rerank pair
SMALL_RERANKER_PARAMS = 0.6e9        # Qwen3-Reranker-0.6B

DENSE_DIM = 1024
HNSW_M = 16
OTHER_BYTES = 2048                   # scalar + text fields, BM25 sparse vector, scalar and sparse indexes, per product
LOAD_HEADROOM = 0.7                  # fill query-node memory to 70 % (growing segments, compaction, loading)
QUERY_NODE_GIB = 32                  # memory of one query node pod (deploy/k8s/milvus.yaml)
REPLICAS = 2                         # in-memory replicas (load_collection replica_number): survive a node, x2 QPS

EVENT_BYTES = 1024                   # one event on the topic (the sample's are ~510 B; real descriptions are longer)
KAFKA_REPLICATION = 3
RETENTION_S = 7 * 86400              # retention.ms of catalog.products
TEXT_CHANGE_SHARE = 0.2              # events that change the embedded text (the rest: price/stock patches, stale)
WORKER_EVENTS_PER_S = 500            # one ingest worker, mixed traffic, on a Milvus server (see doc)
MIN_PARTITIONS = 24

CATALOG_SIZES = (1_000_000, 10_000_000, 100_000_000)
RATES = (100, 1_000, 10_000)


def effective_flops() -> float:
    return GPU_PEAK_FLOPS * GPU_UTILISATION


def products_per_gpu_s(tokens: int = EMBED_TOKENS) -> float:
    return effective_flops() / (tokens * FLOP_PER_TOKEN)


def query_embeds_per_gpu_s() -> float:
    return effective_flops() / (QUERY_TOKENS * FLOP_PER_TOKEN)


def reranks_per_gpu_s(candidates: int = RERANK_CANDIDATES, params: float = PARAMS) -> float:
    return effective_flops() / (candidates * RERANK_PAIR_TOKENS * 2 * params)


@dataclass(frozen=True)
class Layout:
    name: str
    dense_bytes: float          # in query-node memory, per vector (index included)
    disk_bytes: float = 0.0     # on the query node's NVMe, per vector


def hnsw_graph_bytes(m: int = HNSW_M) -> float:
    """Layer 0 holds 2M links of 4 B per vector; the upper layers add about 1/M of that."""
    return 2 * m * 4 * (1 + 1 / m)


LAYOUTS = (
    Layout("HNSW, 1024-d float32", DENSE_DIM * 4 + hnsw_graph_bytes()),
    Layout("HNSW, 512-d float32 (MRL)", DENSE_DIM // 2 * 4 + hnsw_graph_bytes()),
    Layout("HNSW_SQ8, 1024-d", DENSE_DIM * 1 + hnsw_graph_bytes()),
    Layout("HNSW_SQ8, 512-d (MRL)", DENSE_DIM // 2 * 1 + hnsw_graph_bytes()),
    # DiskANN: PQ codes in memory (pq_code_budget_gb_ratio 0.125 of the raw vectors), vectors + graph on NVMe
    Layout("DiskANN, 1024-d float32", DENSE_DIM * 4 * 0.125, DENSE_DIM * 4 + 56 * 4),
)


def fmt_bytes(n: float) -> str:
    if n >= 1000 * GB:
        return f"{n / 1000 / GB:,.1f} TB"
    return f"{n / GB:,.1f} GB" if n < 100 * GB else f"{n / GB:,.0f} GB"


def memory_table() -> str:
    head = "| Dense layout | per product (dense + other) | " + " | ".join(f"{n // 1_000_000} M products"
                                                                        for n in CATALOG_SIZES) + " |"
    rows = [head, "|---|---|" + "---|" * len(CATALOG_SIZES)]
    for layout in LAYOUTS:
        per = layout.dense_bytes + OTHER_BYTES
        cells = []
        for n in CATALOG_SIZES:
            need = n * per * REPLICAS / LOAD_HEADROOM
            nodes = max(REPLICAS, math.ceil(need / (QUERY_NODE_GIB * GIB)))   # a replica per node at least
            disk = f", NVMe {fmt_bytes(n * layout.disk_bytes * REPLICAS)}" if layout.disk_bytes else ""
            cells.append(f"dense {fmt_bytes(n * layout.dense_bytes)}; query nodes: {nodes}{disk}")
        rows.append(f"| {layout.name} | {layout.dense_bytes:,.0f} + {OTHER_BYTES:,} B | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def backfill_table() -> str:
    rows = ["| Catalog | GPU-hours to embed it all (40 tokens) | on 1 GPU | on 8 GPUs | at 85 tokens, 8 GPUs |",
            "|---|---|---|---|---|"]
    for n in CATALOG_SIZES:
        hours = n / products_per_gpu_s() / 3600
        long_hours = n / products_per_gpu_s(EMBED_TOKENS_SAMPLE) / 3600
        rows.append(f"| {n // 1_000_000} M | {hours:,.1f} | {_duration(hours)} | {_duration(hours / 8)} | "
                    f"{_duration(long_hours / 8)} |")
    return "\n".join(rows)


def _duration(hours: float) -> str:
    return f"{hours * 60:,.0f} min" if hours < 2 else f"{hours:,.1f} h"


def ingest_table() -> str:
    rows = ["| Events/s | embedded texts/s (20 %) | embedding GPUs | ingest workers | partitions | Kafka writes "
            "(x3 replicas) | 7-day retention on disk (x3) |", "|---|---|---|---|---|---|---|"]
    for rate in RATES:
        texts = rate * TEXT_CHANGE_SHARE
        gpus = max(1, math.ceil(texts / products_per_gpu_s()))
        workers = max(2, math.ceil(rate / WORKER_EVENTS_PER_S))
        partitions = max(MIN_PARTITIONS, 2 ** math.ceil(math.log2(2 * workers)))
        write = rate * EVENT_BYTES * KAFKA_REPLICATION
        disk = rate * EVENT_BYTES * RETENTION_S * KAFKA_REPLICATION
        rows.append(f"| {rate:,} | {texts:,.0f} | {gpus} | {workers} | {partitions} | {write / 1e6:,.1f} MB/s | "
                    f"{fmt_bytes(disk)} |")
    return "\n".join(rows)


def query_table() -> str:
    small = reranks_per_gpu_s(30, SMALL_RERANKER_PARAMS)
    rows = ["| Queries/s | query-embedding GPUs (no cache hits) | rerank GPUs, 4B x 100 candidates | "
            "4B x 30 candidates | 0.6B x 30 candidates |", "|---|---|---|---|---|"]
    for rate in RATES:
        rows.append(f"| {rate:,} | {max(1, math.ceil(rate / query_embeds_per_gpu_s()))} | "
                    f"{math.ceil(rate / reranks_per_gpu_s()):,} | {math.ceil(rate / reranks_per_gpu_s(30)):,} | "
                    f"{math.ceil(rate / small):,} |")
    return "\n".join(rows)


def throughput_lines() -> str:
    return "\n".join([
        f"* Effective GPU throughput: {GPU_PEAK_FLOPS / 1e12:,.0f} TFLOP/s x {GPU_UTILISATION:.0%} = "
        f"**{effective_flops() / 1e12:,.0f} TFLOP/s**.",
        f"* Embedding a product: {EMBED_TOKENS} tokens x {FLOP_PER_TOKEN / 1e9:.0f} GFLOP = "
        f"{EMBED_TOKENS * FLOP_PER_TOKEN / 1e12:.2f} TFLOP -> **{products_per_gpu_s():,.0f} products/s per GPU** "
        f"({products_per_gpu_s(EMBED_TOKENS_SAMPLE):,.0f}/s at the sample's {EMBED_TOKENS_SAMPLE} tokens).",
        f"* Embedding a query: {QUERY_TOKENS} tokens -> **{query_embeds_per_gpu_s():,.0f} queries/s per GPU**.",
        f"* Reranking a query: {RERANK_CANDIDATES} candidates x {RERANK_PAIR_TOKENS} tokens x "
        f"{FLOP_PER_TOKEN / 1e9:.0f} GFLOP = {RERANK_CANDIDATES * RERANK_PAIR_TOKENS * FLOP_PER_TOKEN / 1e12:.0f} "
        f"TFLOP -> **{reranks_per_gpu_s():.1f} queries/s per GPU**; {reranks_per_gpu_s(30):.1f}/s at 30 candidates, "
        f"{reranks_per_gpu_s(30, SMALL_RERANKER_PARAMS):.0f}/s with the 0.6B reranker at 30.",
    ])


def replicas_table() -> str:
    """Catalog size, event rate and query rate grown together: the vLLM replicas of the three tables above."""
    head = "| | " + " | ".join(f"{n // 1_000_000} M products, {r:,} events/s, {r:,} queries/s"
                              for n, r in zip(CATALOG_SIZES, RATES, strict=True)) + " |"
    embed, rerank, small = [], [], []
    for rate in RATES:
        query = max(1, math.ceil(rate / query_embeds_per_gpu_s()))
        docs = [max(1, math.ceil(rate * TEXT_CHANGE_SHARE / products_per_gpu_s(t)))
                for t in (EMBED_TOKENS, EMBED_TOKENS_SAMPLE)]
        low, high = docs[0] + query + 1, docs[1] + query + 1
        embed.append(str(low) if low == high else f"{low}–{high}")
        rerank.append(f"{math.ceil(rate / reranks_per_gpu_s()):,}")
        small.append(f"{math.ceil(rate / reranks_per_gpu_s(30, SMALL_RERANKER_PARAMS)):,}")
    return "\n".join([head, "|---|" + "---|" * len(RATES),
                      "| Embedding: documents + queries + 1 spare | " + " | ".join(embed) + " |",
                      "| Reranker 4B, 100 candidates | " + " | ".join(rerank) + " |",
                      "| Reranker 0.6B, 30 candidates | " + " | ".join(small) + " |"])


SECTIONS = {"throughput": throughput_lines, "memory": memory_table, "backfill": backfill_table,
            "ingest": ingest_table, "queries": query_table, "replicas": replicas_table}


def render(text: str) -> str:
    for name, make in SECTIONS.items():
        start, end = f"<!-- scaling:{name}:start -->", f"<!-- scaling:{name}:end -->"
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        text = f"{head}{start}\n{make()}\n{end}{tail}"
    return text


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--write":
        with open(sys.argv[2], encoding="utf-8") as f:
            current = f.read()
        with open(sys.argv[2], "w", encoding="utf-8") as f:
            f.write(render(current))
    else:
        for make in SECTIONS.values():
            print(make(), end="\n\n")
