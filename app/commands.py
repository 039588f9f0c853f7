"""Handlers of the ``catalog-search`` subcommands (argument parsing lives in ``catalog.cli``)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

from catalog_search.app.output import print_json
from catalog_search.core.product import Product
from catalog_search.core.settings import Settings

COUNTER_KEYS = ("events", "embedded_texts", "upserted", "patched", "deleted", "stale", "dead_lettered")


def ingest_kafka(args: argparse.Namespace, settings: Settings) -> int:
    started = time.monotonic()
    counters = run_kafka_worker(settings, until_idle_s=args.until_idle, handle_signals=True)
    _report(counters, time.monotonic() - started, as_json=args.json)
    return 0


def run_kafka_worker(settings: Settings, *, until_idle_s: float | None, handle_signals: bool = False) -> dict[str, int]:
    from catalog_search.app.ingest_wiring import make_batcher, make_processor
    from catalog_search.adapters.kafka import KafkaDeadLetterSink, ensure_topics, make_event_log, make_producer
    from catalog_search.ingest.metrics import IngestMetrics
    from catalog_search.ingest.worker import IngestWorker

    ensure_topics(settings, [settings.kafka.topic, settings.kafka.dlq])
    metrics = IngestMetrics()
    if settings.ingest.metrics_port:
        metrics.serve(settings.ingest.metrics_port)
    producer = make_producer(settings)
    try:
        with make_processor(settings, KafkaDeadLetterSink(producer, settings.kafka.dlq), metrics=metrics) as processor:
            worker = IngestWorker(make_event_log(settings), settings.kafka.topic, processor, make_batcher(settings))
            if handle_signals:
                worker.install_signal_handlers()
            return worker.run(until_idle_s=until_idle_s).as_dict()
    finally:
        producer.close()


def ingest_file(args: argparse.Namespace, settings: Settings) -> int:
    from catalog_search.app.ingest_wiring import make_batcher, make_processor
    from catalog_search.ingest.backfill import FileDeadLetterSink, backfill

    rejects = FileDeadLetterSink(args.rejects or args.path.with_name(args.path.name + ".rejects.jsonl"))
    with make_processor(settings, rejects) as processor:
        started = time.monotonic()
        counters = backfill(args.path, processor, make_batcher(settings), default_version=args.default_version,
                            progress=not args.no_progress and sys.stderr.isatty())
    _report(counters.as_dict(), time.monotonic() - started, as_json=args.json)
    if rejects.count:
        print(f"{rejects.count} line(s) rejected, reasons in {rejects.path}", file=sys.stderr)
    return 0


def publish(args: argparse.Namespace, settings: Settings) -> int:
    topic = args.topic or settings.kafka.topic
    count = publish_file(settings, args.path, topic)
    print(f"published {count} events to {topic}", file=sys.stderr)
    return 0


def publish_file(settings: Settings, path: Path, topic: str) -> int:
    from catalog_search.adapters.kafka import ensure_topics, make_producer, send_all

    messages = [(topic, _key_of(line), line) for line in path.read_bytes().splitlines() if line.strip()]
    ensure_topics(settings, [topic])
    producer = make_producer(settings)
    try:
        send_all(producer, messages)
    finally:
        producer.close()
    return len(messages)


def _key_of(line: bytes) -> bytes | None:
    """Key = sku (UTF-8) so that every event of a sku lands in one partition, in order; invalid lines keep none."""
    try:
        sku = json.loads(line).get("sku")
    except (ValueError, AttributeError):
        return None
    return sku.encode("utf-8") if isinstance(sku, str) else None


def dlq_replay(args: argparse.Namespace, settings: Settings) -> int:
    from catalog_search.app.dlq_replay import Selection, replay_dead_letters

    try:
        selection = Selection(reasons=tuple(args.reason), partition=args.partition, from_offset=args.from_offset,
                              to_offset=args.to_offset)
    except ValueError as exc:
        print(f"dlq replay: {exc}", file=sys.stderr)
        return 2
    result = replay_dead_letters(settings, until_idle_s=args.until_idle, selection=selection, dry_run=args.dry_run)
    if args.json:
        print_json(result)
        return 0
    if args.dry_run:
        for letter in result["letters"]:
            print(f"{letter['partition']}:{letter['offset']} -> {letter['topic']}: {letter['reason']}")
        print(f"dry run: {result['selected']} dead letters would be replayed ({result['left_out']} left out by the "
              f"selection, {result['unreadable']} unreadable, {result['not_kept']} too large to have been kept); "
              "nothing was produced")
    else:
        print(f"replayed {result['replayed']} dead letters; {result['left_out']} left out by the selection, "
              f"{result['unreadable']} unreadable and {result['not_kept']} too large to have been kept skipped (they "
              "stay in the dead-letter topic)")
    return 0


def get(args: argparse.Namespace, settings: Settings) -> int:
    from catalog_search.adapters.milvus.store import MilvusStore

    store = MilvusStore.from_settings(settings)
    try:
        rows = store.fetch(args.skus)
    finally:
        store.close()
    records = {sku: describe(rows[sku]) if sku in rows else None for sku in args.skus}
    if args.json:
        print_json(records)
    else:
        for sku, record in records.items():
            print(f"{sku}: not found" if record is None else json.dumps(record, ensure_ascii=False))
    return 0 if all(records.values()) else 3


def describe(product: Product) -> dict[str, Any]:
    return {
        "sku": product.sku, "version": product.version, "deleted": product.deleted, "tenant": product.tenant,
        "locale": product.locale, "title": product.title, "brand": product.brand, "category": product.category,
        "price": product.price, "currency": product.currency, "in_stock": product.in_stock,
        "attributes": dict(product.attributes), "text_hash": product.text_hash,
        "updated_at_ms": product.updated_at_ms,
        "vector_dim": 0 if product.vector is None else int(product.vector.shape[0]),
    }


def stats(args: argparse.Namespace, settings: Settings) -> int:
    from catalog_search.adapters.milvus.store import MilvusStore

    store = MilvusStore.from_settings(settings)
    try:
        counts = store.counts()
    finally:
        store.close()
    data = {"collection": settings.milvus.collection, "live": counts.live, "tombstoned": counts.tombstoned}
    print_json(data) if args.json else print(f"{data['collection']}: {counts.live} live, {counts.tombstoned} tombstoned")
    return 0


def stack_up(args: argparse.Namespace, settings: Settings) -> int:
    from catalog_search.app.localstack import LocalStack

    stopping = False

    def stop_on_term(signum: int, _frame: Any) -> None:
        nonlocal stopping
        if not stopping:                  # once: a second signal must not interrupt the stopping itself
            stopping = True
            raise KeyboardInterrupt       # unwinds the `with` below: the broker and Milvus are stopped, not orphaned

    previous = signal.signal(signal.SIGTERM, stop_on_term)
    try:
        with LocalStack(args.data_dir, kafka_port=args.kafka_port, milvus_port=args.milvus_port) as stack:
            print("export " + " ".join(f"{k}={v}" for k, v in stack.env().items()), flush=True)
            print("local stack running; Ctrl-C or SIGTERM stops it", file=sys.stderr, flush=True)
            stack.wait()              # raises if the broker or Milvus dies
    except KeyboardInterrupt:         # whenever it lands (also between the export line and the wait): exit 0
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


def serve(args: argparse.Namespace, settings: Settings) -> int:
    from catalog_search.app.search_wiring import serving_searcher
    from catalog_search.retrieve.server import run_server

    def ready(handle: Any) -> None:
        print(f"search server listening on {handle.address}; SIGTERM/Ctrl-C stops it", file=sys.stderr, flush=True)

    return run_server(settings, serving_searcher(settings), ready=ready)


def search(args: argparse.Namespace, settings: Settings) -> int:
    from catalog_search.app.tables import search_table
    from catalog_search.retrieve.client import InvalidSearch, SearchClient, SearchError, SearchUnavailable, \
        response_to_json

    address = args.address or settings.grpc.address
    try:
        with SearchClient.from_settings(settings.grpc, address=address, timeout_s=args.timeout) as client:
            resp = client.search(args.query, top_k=args.top_k, categories=args.category, brands=args.brand,
                                 price_min=args.price_min, price_max=args.price_max, in_stock_only=args.in_stock,
                                 locale=args.locale, tenant=args.tenant, rerank=not args.no_rerank,
                                 candidates=args.candidates, fusion=args.fusion, alpha=args.alpha,
                                 retrievers=args.retrievers, group_by="group_id" if args.group else None,
                                 facets=args.facet, page_size=args.page_size, page_token=args.page_token,
                                 sort=args.sort, spell_correct=args.spell_correct)
    except InvalidSearch as exc:
        print(f"invalid request: {exc.message}", file=sys.stderr)
        return 2
    except SearchUnavailable as exc:
        print(f"error: {exc.message} (is the server running at {address}?)", file=sys.stderr)
        return 1
    except SearchError as exc:
        print(f"error ({exc.code.name}): {exc.message}", file=sys.stderr)
        return 1
    print(response_to_json(resp) if args.json else search_table(resp, rerank_requested=not args.no_rerank))
    return 0


def ui(args: argparse.Namespace, settings: Settings) -> int:
    from catalog_search.app.web.server import serve_ui
    from catalog_search.retrieve.client import SearchClient, load_tokens

    address = args.address or settings.grpc.address
    tokens = load_tokens(settings.grpc)

    def ready(web: Any) -> None:
        print(f"web page and HTTP API on {web.url} (retrieval service at {address}); SIGTERM/Ctrl-C stops it",
              file=sys.stderr, flush=True)
        if tokens is not None:
            print(f"the API needs a bearer token (CATALOG_GRPC_API_KEY or a tenant token): open the page as "
                  f"{web.url}#token=<token>", file=sys.stderr, flush=True)

    with SearchClient.from_settings(settings.grpc, address=address, timeout_s=args.timeout) as client:
        return serve_ui(client, tokens=tokens, host=args.host, port=args.port, ready=ready)


def _report(counters: dict[str, int], seconds: float, *, as_json: bool) -> None:
    if as_json:
        print_json({**counters, "seconds": round(seconds, 3)})
    else:
        print(" ".join(f"{key}={counters[key]}" for key in COUNTER_KEYS) + f" in {seconds:.1f}s")


def eval_cmd(args: argparse.Namespace, settings: Settings) -> int:
    from catalog_search.app.eval_command import run_eval

    return run_eval(args, settings)


def querylog_export(args: argparse.Namespace, settings: Settings) -> int:
    from catalog_search.adapters.kafka import read_topic
    from catalog_search.retrieve.querylog import InvalidRecord, QueryLogRecord

    topic = args.topic or settings.querylog.topic
    written = skipped = 0
    with args.out.open("w", encoding="utf-8") as out:
        for value in read_topic(settings, topic, idle_s=args.until_idle):
            try:
                record = QueryLogRecord.from_json(value)
            except InvalidRecord:
                skipped += 1
                continue
            out.write(record.to_json().decode("utf-8") + "\n")
            written += 1
    note = f" ({skipped} unreadable skipped)" if skipped else ""
    print(f"exported {written} query-log records from {topic} to {args.out}{note}", file=sys.stderr)
    return 0


def reindex_cmd(args: argparse.Namespace, settings: Settings) -> int:
    from catalog_search.app.reindex_command import run_reindex

    return run_reindex(args, settings)


def alias_cmd(args: argparse.Namespace, settings: Settings) -> int:
    from catalog_search.app.reindex_command import run_alias

    return run_alias(args, settings)
