"""Freshness benchmark: produce upserts at a steady rate, measure produce -> searchable through the gRPC service.

    .venv/bin/python bench/freshness.py [--seconds 60] [--load 0.8] [--poll-ms 100] [--json out.json]

Starts the embedded stack (Tansu broker + Milvus Lite 2.5.1 server) in a temp dir, the real ``IngestWorker``
(batch settings from ``CATALOG_BATCH_*``) on a thread and the real retrieval gRPC server (``retrieve.server.start``,
its own embedder and query cache, rerank off), then:
  1. times the embedder alone on texts like the ones to come (``--calibrate`` texts in calls of ``--call-texts``)
     and sets the produce rate to ``--load`` (0.8) times that;
  2. warms up (a few products produced and awaited: group join and model loads are not part of the numbers);
  3. produces new products (op upsert, unique text, brand ``fresh-<sku>``) at that rate for ``--seconds``, each
     event's produce time taken just before ``KafkaProducer.send``;
  4. meanwhile polls the service every ``--poll-ms`` with one ``SearchClient.search`` per 64 pending skus
     (``brands=[fresh-<sku>, ...]``: the filter matches only not-yet-seen products, so the service takes its exact
     path; the query text is constant, so its embedding comes from the service's cache) and takes a product as
     searchable when it is in the answer; latency = answer received - produced;
  5. prints p50 / p90 / p99 / max of those latencies, the rate achieved and the worker's batches.
The poll interval (plus one RPC) is the resolution: a latency is over-stated by at most about that much.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import add_json_arg, emit, percentile, replicate, rnd, sample_products  # noqa: E402
from bench.ingest import embed_rate, stack_settings, texts_of  # noqa: E402
from catalog_search.adapters.embedding.factory import make_embedder  # noqa: E402
from catalog_search.app.localstack import LocalStack, free_port  # noqa: E402
from catalog_search.core.settings import load_settings  # noqa: E402
from catalog_search.app.ingest_wiring import make_batcher, make_processor  # noqa: E402
from catalog_search.adapters.kafka import KafkaDeadLetterSink, ensure_topics, make_event_log, make_producer  # noqa: E402
from catalog_search.ingest.worker import IngestWorker  # noqa: E402
from catalog_search.retrieve.client import SearchClient  # noqa: E402
from catalog_search.app.search_wiring import start_search_server  # noqa: E402

MAX_BRANDS = 64                  # retrieve.filters.MAX_FILTER_VALUES
QUERY = "fresh arrival"
DRAIN_S = 60.0                   # after the last produce, wait this long at most for the stragglers


def fresh_products(n: int, *, prefix: str) -> list[dict[str, Any]]:
    """``n`` new products with unique texts (so each one costs a model call) and a brand naming the sku."""
    rows = replicate(sample_products(), n, prefix=prefix, vary_titles=False)
    for r in rows:
        r.update(op="upsert", version=1, brand=f"fresh-{r['sku']}", title=f"{r['title']} {r['sku']}")
    return rows


def schedule(rate: float, seconds: float) -> list[float]:
    """Offsets (s) of evenly spaced produce times: ``rate`` per second for ``seconds``."""
    if rate <= 0 or seconds <= 0:
        return []
    return [i / rate for i in range(int(rate * seconds))]


def latency_summary(latencies_ms: list[float]) -> dict[str, float | None]:
    return {"p50_ms": rnd(percentile(latencies_ms, 50)), "p90_ms": rnd(percentile(latencies_ms, 90)),
            "p99_ms": rnd(percentile(latencies_ms, 99)), "max_ms": rnd(max(latencies_ms) if latencies_ms else None),
            "min_ms": rnd(min(latencies_ms) if latencies_ms else None)}


class Tracker:
    """Produce times of pending skus and the latencies of the ones found (thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pending: dict[str, float] = {}
        self.latencies_ms: dict[str, float] = {}

    def produced(self, sku: str, at: float) -> None:
        with self.lock:
            self.pending[sku] = at

    def snapshot(self) -> list[str]:
        with self.lock:
            return list(self.pending)

    def found(self, skus: list[str], at: float) -> None:
        with self.lock:
            for sku in skus:
                started = self.pending.pop(sku, None)
                if started is not None:
                    self.latencies_ms[sku] = (at - started) * 1000


def poll_once(client: SearchClient, tracker: Tracker) -> int:
    """One round over the pending skus; returns how many RPCs it made."""
    pending = tracker.snapshot()
    calls = 0
    for i in range(0, len(pending), MAX_BRANDS):
        chunk = pending[i:i + MAX_BRANDS]
        resp = client.search(QUERY, top_k=len(chunk), brands=[f"fresh-{s}" for s in chunk], rerank=False)
        tracker.found([h.sku for h in resp.hits], time.monotonic())
        calls += 1
    return calls


def wait_until_found(client: SearchClient, tracker: Tracker, poll_s: float, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while tracker.snapshot() and time.monotonic() < deadline:
        poll_once(client, tracker)
        time.sleep(poll_s)
    return not tracker.snapshot()


def run(seconds: float = 60.0, load: float = 0.8, poll_ms: float = 100.0, calibrate: int = 96,
        call_texts: int = 32, rate: float | None = None) -> dict[str, Any]:
    base_settings = load_settings(rerank_backend="none")
    embedder = make_embedder(base_settings)
    calib = texts_of(fresh_products(calibrate, prefix="C"), base_settings)
    embed_alone = embed_rate(embedder, calib, call_texts)                   # warm-up (model load) included
    model_id = embedder.model_id
    embedder.close()
    target = rate if rate else load * embed_alone
    poll_s = poll_ms / 1000

    with tempfile.TemporaryDirectory() as tmp, LocalStack(Path(tmp), kafka_port=free_port(),
                                                           milvus_port=free_port()) as stack:
        settings = stack_settings(base_settings, stack, "bench.fresh", grpc_address=f"127.0.0.1:{free_port()}")
        ensure_topics(settings, [settings.kafka.topic, settings.kafka.dlq])
        producer = make_producer(settings)
        processor = make_processor(settings, KafkaDeadLetterSink(producer, settings.kafka.dlq))
        worker = IngestWorker(make_event_log(settings), settings.kafka.topic, processor, make_batcher(settings))
        worker_error: list[BaseException] = []

        def work() -> None:
            try:
                worker.run()
            except BaseException as exc:  # noqa: BLE001 - reported below
                worker_error.append(exc)

        thread = threading.Thread(target=work, name="bench-ingest-worker", daemon=True)
        thread.start()
        server = start_search_server(settings)
        client = SearchClient(settings.grpc.address, timeout_s=10)
        tracker = Tracker()
        try:
            warm = fresh_products(4, prefix="W")
            for r in warm:
                tracker.produced(r["sku"], time.monotonic())
                producer.send(settings.kafka.topic, key=r["sku"].encode(), value=_json(r))
            producer.flush()
            if not wait_until_found(client, tracker, poll_s, 120.0):
                raise RuntimeError(f"warm-up products never became searchable: {tracker.snapshot()}"
                                   f"{' (worker: ' + repr(worker_error[0]) + ')' if worker_error else ''}")
            tracker.latencies_ms.clear()
            counters_before = worker.counters.as_dict()

            rows = fresh_products(max(1, len(schedule(target, seconds))), prefix="F")
            offsets = schedule(target, seconds) or [0.0]
            produced_span: list[float] = []

            def produce() -> None:
                t0 = time.monotonic()
                for r, offset in zip(rows, offsets):
                    pause = t0 + offset - time.monotonic()
                    if pause > 0:
                        time.sleep(pause)
                    tracker.produced(r["sku"], time.monotonic())
                    producer.send(settings.kafka.topic, key=r["sku"].encode(), value=_json(r))
                produced_span.append(time.monotonic() - t0)
                producer.flush()

            producer_thread = threading.Thread(target=produce, name="bench-producer", daemon=True)
            producer_thread.start()
            rpcs = 0
            while producer_thread.is_alive():
                rpcs += poll_once(client, tracker)
                time.sleep(poll_s)
            drained = time.monotonic() + DRAIN_S
            while tracker.snapshot() and time.monotonic() < drained and not worker_error:
                rpcs += poll_once(client, tracker)
                time.sleep(poll_s)
            missing = tracker.snapshot()
        finally:
            client.close()
            server.stop()
            worker.stop()
            thread.join(timeout=60)
            producer.close()
        counters = {k: v - counters_before.get(k, 0) for k, v in worker.counters.as_dict().items()}
    if worker_error:
        raise RuntimeError(f"ingest worker failed: {worker_error[0]!r}")

    latencies = list(tracker.latencies_ms.values())
    span = produced_span[0] if produced_span else float("nan")
    return {
        "embedder": model_id,
        "embedder_alone_texts_per_s": rnd(embed_alone), "embedder_call_texts": call_texts,
        "load_factor": load if not rate else None, "target_events_per_s": rnd(target, 2),
        "achieved_events_per_s": rnd((len(rows) - 1) / span, 2) if len(rows) > 1 and span > 0 else None,
        "seconds": seconds, "produced": len(rows), "searchable": len(latencies), "missing": len(missing),
        **latency_summary(latencies),
        "poll_interval_ms": poll_ms, "poll_rpcs": rpcs,
        "batch_max_events": settings.ingest.max_events, "batch_max_wait_ms": settings.ingest.max_wait_ms,
        "worker_batches": counters.get("batches"),
        "mean_batch_events": rnd(counters["events"] / counters["batches"], 1) if counters.get("batches") else None,
        "worker_embedded_texts": counters.get("embedded_texts"),
    }


def _json(row: dict) -> bytes:
    return json.dumps(row, ensure_ascii=False).encode()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to produce")
    parser.add_argument("--load", type=float, default=0.8, help="produce rate as a fraction of the embedder alone")
    parser.add_argument("--rate", type=float, default=None, help="produce this many events/s instead (overrides "
                                                                 "--load)")
    parser.add_argument("--poll-ms", type=float, default=100.0, help="poll interval = the latency resolution")
    parser.add_argument("--calibrate", type=int, default=96, help="texts timed for the embedder-alone rate")
    parser.add_argument("--call-texts", type=int, default=32, help="texts per embedder call when calibrating")
    add_json_arg(parser)
    args = parser.parse_args(argv)
    emit(run(args.seconds, args.load, args.poll_ms, args.calibrate, args.call_texts, args.rate), args.json)


if __name__ == "__main__":
    main()
