"""``catalog-search``: the single command-line entry point. Settings are read here once and passed down."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from catalog_search.core.errors import BackendError, CatalogError, ConfigError
from catalog_search.core.settings import Settings, load_settings

log = logging.getLogger("catalog_search")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO if args.log else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if not args.verbose:   # client libraries log (and retry) internally; our adapters report what matters to us
        for noisy in ("kafka", "pymilvus"):
            logging.getLogger(noisy).setLevel(logging.CRITICAL)
    try:
        settings = load_settings()
        return int(args.func(args, settings) or 0)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except BackendError as exc:
        kind = "transient" if exc.retriable else "permanent"
        print(f"error ({kind} {type(exc).__name__}): {exc}", file=sys.stderr)
        return 1
    except CatalogError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="catalog-search", description="Keep a product catalog searchable by "
                                     "meaning: Kafka -> embeddings -> Milvus. Settings come from CATALOG_* variables.")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--log", action="store_true", help="info logging")
    sub = parser.add_subparsers(dest="command", required=True)

    ingest = sub.add_parser("ingest", help="apply catalog events to Milvus").add_subparsers(dest="source", required=True)
    kafka = ingest.add_parser("kafka", help="consume the catalog topic (the worker)")
    kafka.add_argument("--until-idle", type=_positive_float, metavar="SECONDS",
                       help="exit once no new event arrived for this long")
    kafka.add_argument("--json", action="store_true", help="print the counters as one JSON object at exit")
    _set(kafka, "ingest_kafka")
    backfill = ingest.add_parser("file", help="backfill from JSON Lines (events or plain product records)")
    backfill.add_argument("path", type=_existing_file)
    backfill.add_argument("--default-version", type=int, default=1, help="version of plain records without one")
    backfill.add_argument("--rejects", type=Path, help="where rejected lines go (default PATH.rejects.jsonl)")
    backfill.add_argument("--json", action="store_true")
    backfill.add_argument("--no-progress", action="store_true")
    _set(backfill, "ingest_file")

    publish = sub.add_parser("publish", help="produce a JSON Lines file of events to Kafka (key = sku)")
    publish.add_argument("path", type=_existing_file)
    publish.add_argument("--topic", help="default CATALOG_KAFKA_TOPIC")
    _set(publish, "publish")

    dlq = sub.add_parser("dlq", help="dead-letter topic tools").add_subparsers(dest="dlq_command", required=True)
    replay = dlq.add_parser("replay", help="re-publish dead letters to their original topic after a fix",
                            description="Without selectors: every letter not replayed yet, once (the replay's consumer "
                            "group). With selectors or --dry-run: the letters they select, read by hand from the "
                            "topic without moving any position (the rest stay replayable).")
    replay.add_argument("--until-idle", type=_positive_float, default=5.0, metavar="SECONDS")
    replay.add_argument("--reason", action="append", default=[], metavar="TEXT",
                        help="only letters whose reason contains TEXT (case-insensitive; repeat for any of several)")
    replay.add_argument("--partition", type=_non_negative_int, help="only this partition of the dead-letter topic")
    replay.add_argument("--from-offset", type=_non_negative_int, metavar="N", help="only offsets >= N")
    replay.add_argument("--to-offset", type=_non_negative_int, metavar="N", help="only offsets <= N")
    replay.add_argument("--dry-run", action="store_true", help="list what would be replayed; produce nothing")
    replay.add_argument("--json", action="store_true")
    _set(replay, "dlq_replay")

    get = sub.add_parser("get", help="print stored records")
    get.add_argument("skus", nargs="+", metavar="SKU")
    get.add_argument("--json", action="store_true")
    _set(get, "get")
    stats = sub.add_parser("stats", help="live and tombstoned counts")
    stats.add_argument("--json", action="store_true")
    _set(stats, "stats")

    stack = sub.add_parser("stack", help="the embedded local stack").add_subparsers(dest="stack_command", required=True)
    up = stack.add_parser("up", help="run a Kafka-compatible broker and a Milvus Lite server until Ctrl-C")
    up.add_argument("--data-dir", type=Path, default=Path(".catalog/stack"))
    up.add_argument("--kafka-port", type=int, default=9092)
    up.add_argument("--milvus-port", type=int, default=19530)
    _set(up, "stack_up")

    demo = sub.add_parser("demo", help="local stack + sample catalog + ingest, then print what landed")
    demo.add_argument("--data-dir", type=Path, default=Path(".catalog/demo"))
    demo.add_argument("--ui", action="store_true",
                      help="then keep the stack, the retrieval service and the web page running until Ctrl-C")
    demo.add_argument("--host", default="127.0.0.1", help="web page host with --ui (default 127.0.0.1)")
    demo.add_argument("--port", type=_port, default=7860, help="web page port with --ui (default 7860)")
    demo.set_defaults(func=_run_demo)

    serve = sub.add_parser("serve", help="run the retrieval gRPC server at CATALOG_GRPC_ADDRESS until SIGTERM/Ctrl-C")
    _set(serve, "serve")
    search = sub.add_parser("search", help="query the retrieval gRPC server")
    search.add_argument("query")
    search.add_argument("--top-k", type=int, default=10, help="results (1-100; 0 = server default)")
    search.add_argument("--category", action="append", default=[], metavar="PATH",
                        help='category path, matches it and below, e.g. "Apparel > Men" (repeatable: any of)')
    search.add_argument("--brand", action="append", default=[], help="brand (repeatable: any of)")
    search.add_argument("--price-min", type=float)
    search.add_argument("--price-max", type=float)
    search.add_argument("--in-stock", action="store_true", help="only products in stock")
    search.add_argument("--locale", help="e.g. en-US")
    search.add_argument("--tenant")
    search.add_argument("--no-rerank", action="store_true", help="skip the reranker (fused order)")
    search.add_argument("--candidates", type=int, help="fused candidates to rerank (default: the server's)")
    search.add_argument("--fusion", choices=("rrf", "weighted"), help="fusion of the dense and BM25 lists "
                        "(default: the server's)")
    search.add_argument("--alpha", type=float, help="weighted fusion: weight of the dense side, 0..1")
    search.add_argument("--retrievers", choices=("both", "dense", "bm25"), help="both (default) or one list alone")
    search.add_argument("--group", action="store_true", help="one hit per variant group (group_id): its best variant")
    search.add_argument("--facet", action="append", default=[], metavar="NAME",
                        help="count a facet over the result set: brand, category[:LEVEL], price[:EDGE,EDGE,...], "
                        "in_stock, locale (repeatable)")
    search.add_argument("--page-size", type=int, default=0, metavar="N",
                        help="page the result set N hits at a time (replaces --top-k); prints next_page_token")
    search.add_argument("--page-token", default="", metavar="T", help="next_page_token of the previous page "
                        "(same query, filters and options)")
    search.add_argument("--sort", choices=("relevance", "price_asc", "price_desc", "newest"),
                        help="order of the result set (default relevance); other sorts order only the result set")
    spell = search.add_mutually_exclusive_group()
    spell.add_argument("--spell", dest="spell_correct", action="store_const", const=True, default=None,
                       help="correct misspelled terms on the BM25 side (default: the server's CATALOG_SPELL_ENABLED)")
    spell.add_argument("--no-spell", dest="spell_correct", action="store_const", const=False,
                       help="search exactly what was typed")
    search.add_argument("--json", action="store_true", help="one JSON object instead of a table")
    search.add_argument("--address", help="server address (default CATALOG_GRPC_ADDRESS)")
    search.add_argument("--timeout", type=_positive_float, default=5.0, metavar="SECONDS",
                        help="deadline of the whole call, retries included (default 5)")
    _set(search, "search")
    health = sub.add_parser("health", help="check a retrieval server through grpc.health.v1 (exit 0 when SERVING)")
    health.add_argument("--address", help="default CATALOG_GRPC_ADDRESS, a wildcard host (0.0.0.0) read as localhost")
    health.add_argument("--service", help="service to ask about (default the search service; '' = the whole server)")
    health.add_argument("--timeout", type=_positive_float, default=3.0, metavar="SECONDS")
    health.set_defaults(func=_run_health)
    ui = sub.add_parser("ui", help="the web page + HTTP JSON API (/v1/search, /v1/rerank) in front of the retrieval "
                        "gRPC server, until SIGTERM/Ctrl-C")
    ui.add_argument("--host", default="127.0.0.1", help="listen on this host (default 127.0.0.1)")
    ui.add_argument("--port", type=_port, default=7860, help="listen on this port (default 7860; 0 = any free one)")
    ui.add_argument("--address", help="retrieval gRPC server (default CATALOG_GRPC_ADDRESS)")
    ui.add_argument("--timeout", type=_positive_float, default=10.0, metavar="SECONDS",
                    help="deadline of each call to the service, retries included (default 10)")
    _set(ui, "ui")

    ev = sub.add_parser("eval", help="relevance evaluation on a judged set through the real ingest + retrieval code",
                        description="Ingest PRODUCTS into a separate collection (named from model, dim and corpus "
                        "hash; reused when it already holds the corpus), run every judged query through the real "
                        "Searcher for each config and report nDCG@10 (linear gains), Recall@100, MRR@10 and p50/p95 "
                        "per-stage latency. Unjudged results count as non-relevant. Exit status: 0 ok, 1 backend "
                        "error, 2 bad input, 3 the --baseline gate failed (nDCG@10 of a config present in the "
                        "baseline fell more than --max-drop below it). With --replay FILE it replays a query-log "
                        "export (catalog-search querylog export) against this configuration (the live alias and "
                        "CATALOG_*, or each --config) instead: overlap@10 with the logged results and the latency, "
                        "old against new; no judged set needed.")
    ev.add_argument("--products", type=_existing_file, help="products, JSON Lines {sku, title, ...}")
    ev.add_argument("--queries", type=_existing_file, help="queries, TSV qid<TAB>text")
    ev.add_argument("--qrels", type=_existing_file, help="judgments, TSV qid<TAB>sku<TAB>grade")
    ev.add_argument("--replay", type=_existing_file, metavar="FILE",
                    help="a query-log export (JSON Lines) to replay instead of a judged set")
    ev.add_argument("--config", action="append", default=[], metavar="NAME",
                    help="configuration to run (repeatable; default all but +spell): bm25, dense, hybrid-rrf, "
                    "hybrid-weighted-a0.2|0.3|0.35|0.4|0.5|0.7, default (the server's CATALOG_SEARCH_FUSION/_ALPHA), "
                    "NAME+rerank when CATALOG_RERANK_BACKEND is set, and NAME+spell (spell-corrected BM25 query)")
    ev.add_argument("--sweep-candidates", type=_depths, metavar="N,N,...",
                    help="also run the default config with each retriever searching only N candidates deep "
                    "(N >= 10) and plot nDCG@10 against N")
    ev.add_argument("--limit-queries", type=int, metavar="N", help="only the first N queries of the queries file")
    ev.add_argument("--gains", choices=("linear", "exponential"), default="linear", help="nDCG gains (default linear)")
    ev.add_argument("--json", action="store_true", help="print the results as JSON instead of a markdown table")
    ev.add_argument("--out", type=Path, metavar="DIR", help="write report.md, results.json and metrics.png here")
    ev.add_argument("--baseline", type=_existing_file, metavar="FILE", help="results.json of an earlier run")
    ev.add_argument("--max-drop", type=float, default=0.0, metavar="X",
                    help="allowed nDCG@10 drop below the baseline (default 0); more exits 3")
    ev.add_argument("--no-progress", action="store_true")
    _set(ev, "eval_cmd")

    qlog = sub.add_parser("querylog", help="query-log tools").add_subparsers(dest="querylog_command", required=True)
    export = qlog.add_parser("export", help="write the query-log topic (CATALOG_QUERYLOG_TOPIC) as JSON Lines, from "
                             "the start of every partition until its end and no record for --until-idle seconds")
    export.add_argument("--out", type=Path, required=True, metavar="FILE", help="JSON Lines file to write")
    export.add_argument("--topic", help="default CATALOG_QUERYLOG_TOPIC")
    export.add_argument("--until-idle", type=_positive_float, default=2.0, metavar="SECONDS",
                        help="stop once no record came for this long after the end (default 2)")
    _set(export, "querylog_export")
    _add_reindex(sub)
    return parser


def _add_reindex(sub: Any) -> None:
    rx = sub.add_parser("reindex", help="rebuild into a new collection, gate it, swap the search alias atomically",
                        description="Build a new physical collection (new model, dim or index) from the live one "
                        "(or a backfill file) while searches keep reading the alias, catch up with Kafka events "
                        "since the live ingest group's committed offsets, compare nDCG@10 of the default search "
                        "on a judged set (live vs new) and switch the alias only if new >= old - max-drop. "
                        "CATALOG_* describe the live deployment; the options below say what changes. Exit status: "
                        "0 swapped (or built and gated with --no-swap), 1 backend error, 2 bad input, 3 the gate "
                        "failed (alias unchanged).")
    rx.add_argument("--to", required=True, metavar="COLLECTION", help="the new physical collection")
    rx.add_argument("--from-file", type=_existing_file, metavar="PATH",
                    help="build from this JSON Lines file (events or product records) instead of the live collection")
    rx.add_argument("--default-version", type=int, default=1, help="version of plain records (--from-file)")
    rx.add_argument("--embed-backend", choices=("local", "openai"), help="new embedding backend")
    rx.add_argument("--embed-model", help="new served model name (openai backend)")
    rx.add_argument("--embed-base-url", help="new embedding server")
    rx.add_argument("--embed-dim", type=int, help="new vector size")
    rx.add_argument("--index", choices=("auto", "HNSW", "FLAT", "IVF_FLAT"), help="new dense index")
    rx.add_argument("--bm25-analyzer", choices=("english", "multilingual"),
                    help="BM25 analyzer of the new collection (vectors are still copied: BM25 re-reads the text)")
    rx.add_argument("--re-embed", action="store_true", help="re-embed even when the stored vectors could be copied")
    rx.add_argument("--queries", type=_existing_file, help="gate queries, TSV qid<TAB>text")
    rx.add_argument("--qrels", type=_existing_file, help="gate judgments, TSV qid<TAB>sku<TAB>grade")
    rx.add_argument("--max-drop", type=float, default=0.0, metavar="X",
                    help="allowed nDCG@10 drop of the new collection (default 0)")
    rx.add_argument("--skip-gate", action="store_true", help="swap without a judged set")
    rx.add_argument("--no-swap", "--dry-run", dest="no_swap", action="store_true",
                    help="build, catch up and gate, but leave the alias alone")
    rx.add_argument("--follow", action="store_true",
                    help="after the swap keep applying new events to the new collection until SIGTERM/Ctrl-C")
    rx.add_argument("--drop-old", action="store_true", help="drop the old collection after the swap (no rollback)")
    rx.add_argument("--overwrite", action="store_true", help="drop and rebuild --to if it already exists")
    rx.add_argument("--no-kafka", action="store_true", help="no catch-up (a catalog maintained by files only)")
    rx.add_argument("--replay-from", choices=("committed", "earliest"), default="committed",
                    help="catch up from the live ingest group's committed offsets (default) or the topic start")
    rx.add_argument("--group", help="catch-up consumer group (default CATALOG_KAFKA_GROUP-<to>)")
    rx.add_argument("--catch-up-idle", type=_positive_float, default=2.0, metavar="SECONDS",
                    help="caught up = at the end of every partition and no event for this long (default 2)")
    rx.add_argument("--catch-up-timeout", type=_positive_float, default=600.0, metavar="SECONDS")
    rx.add_argument("--rejects", type=Path, help="where refused rows go (default <to>.reindex-rejects.jsonl)")
    rx.add_argument("--json", action="store_true", help="print the result as one JSON object")
    rx.add_argument("--no-progress", action="store_true")
    _set(rx, "reindex_cmd")

    alias = sub.add_parser("alias", help="show where the search alias points, or switch it (rollback)")
    alias.add_argument("--set", metavar="COLLECTION", help="point CATALOG_MILVUS_ALIAS at this collection (atomic)")
    alias.add_argument("--json", action="store_true")
    _set(alias, "alias_cmd")


def _set(parser: argparse.ArgumentParser, name: str) -> None:
    def run(args: argparse.Namespace, settings: Settings) -> int:
        from catalog_search.app import commands     # imported late: `--help` stays fast and light
        handler: Callable[[argparse.Namespace, Settings], int] = getattr(commands, name)
        return handler(args, settings)
    parser.set_defaults(func=run)


def _run_demo(args: argparse.Namespace, settings: Settings) -> int:
    from catalog_search.app.demo import run_demo     # imported late like the commands

    ui = (args.host, args.port) if args.ui else None
    return run_demo(settings, args.data_dir, ui=ui)


def _run_health(args: argparse.Namespace, settings: Settings) -> int:
    from catalog_search.app.health_command import health     # imported late like the commands

    return health(args, settings)


def _depths(value: str) -> tuple[int, ...]:
    try:
        depths = tuple(sorted({int(v) for v in value.split(",") if v.strip()}))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {value!r}") from None
    if not depths or depths[0] < 10 or depths[-1] > 1000:
        raise argparse.ArgumentTypeError(f"candidate counts must be between 10 and 1000, got {value!r}")
    return depths


def _int_in(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number in ``low..high`` (no upper bound when ``high`` is None)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < low or (high is not None and value > high):
            bounds = f">= {low}" if high is None else f"between {low} and {high}"
            raise argparse.ArgumentTypeError(f"must be {bounds}, got {value}")
        return value
    return parse


_port = _int_in(0, 65535)
_non_negative_int = _int_in(0)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def _existing_file(text: str) -> Path:
    path = Path(text)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"no such file: {text}")
    return path


if __name__ == "__main__":
    raise SystemExit(main())
