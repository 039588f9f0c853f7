"""``catalog-search reindex`` and ``catalog-search alias``: arguments -> settings and options, run, report.

CATALOG_* describe the live deployment (alias, ingest group, the model of the live collection); the ``--embed-*`` and
``--index`` options say what changes for the new collection. Exit status: 0 swapped (or, with ``--no-swap``, built
and gated), 1 backend error, 2 bad input, 3 the gate failed (the alias is unchanged).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from typing import Any

from catalog_search.core.errors import ConfigError
from catalog_search.core.settings import Settings, load_settings
from catalog_search.core.store import CatalogStore
from catalog_search.evaluate.data import EvalDataError
from catalog_search.evaluate.gate import JudgedScorer, JudgedSet

GATE_FAILED = 3
NEW_MODEL_OPTIONS = {"embed_backend": "embed_backend", "embed_model": "embed_model",
                     "embed_base_url": "embed_base_url", "embed_dim": "embed_dim", "index": "milvus_index",
                     "bm25_analyzer": "bm25_analyzer"}


def new_settings(live: Settings, args: argparse.Namespace) -> Settings:
    """The live settings with the new collection and whatever ``--embed-*`` / ``--index`` / ``--bm25-analyzer``
    change (validated)."""
    overrides: dict[str, Any] = {"milvus_collection": args.to}
    for option, name in NEW_MODEL_OPTIONS.items():
        value = getattr(args, option, None)
        if value is not None:
            overrides[name] = value
    if "embed_backend" in overrides and args.embed_dim is None and overrides["embed_backend"] != live.embed.backend:
        overrides["embed_dim"] = None          # the new backend's default dim, not the live one's
    return live.replace(**overrides)


def options(args: argparse.Namespace) -> Any:
    from catalog_search.ingest.reindex.run import ReindexOptions

    if args.skip_gate and (args.queries or args.qrels):
        raise ConfigError("--skip-gate and --queries/--qrels exclude each other")
    if not args.skip_gate and not (args.queries and args.qrels):
        raise ConfigError("the gate needs --queries and --qrels (the judged set of `catalog-search eval`); "
                          "--skip-gate swaps without a gate")
    if args.max_drop < 0:
        raise ConfigError("--max-drop must be >= 0")
    if args.no_swap and (args.follow or args.drop_old):
        raise ConfigError("--follow and --drop-old need the swap (drop --no-swap)")
    if args.no_kafka and args.follow:
        raise ConfigError("--follow consumes Kafka; it cannot go with --no-kafka")
    try:
        judged = None if args.skip_gate else JudgedSet.load(args.queries, args.qrels)
    except EvalDataError as exc:
        raise ConfigError(str(exc)) from None
    from catalog_search.app.eval_collection import eval_searcher

    progress = not args.no_progress and sys.stderr.isatty()
    gate = None if judged is None else JudgedScorer(judged, eval_searcher, progress=progress)
    return ReindexOptions(gate=gate, max_drop=args.max_drop, from_file=args.from_file,
                          default_version=args.default_version, swap=not args.no_swap, follow=args.follow,
                          drop_old=args.drop_old, overwrite=args.overwrite, re_embed=args.re_embed,
                          kafka=not args.no_kafka, replay_from=args.replay_from, group=args.group,
                          idle_s=args.catch_up_idle, catch_up_timeout_s=args.catch_up_timeout, rejects=args.rejects,
                          progress=progress)


def open_store(settings: Settings) -> CatalogStore:
    """The concrete store of ``settings`` (the reindex's ``StoreFactory``): a ``MilvusStore``, opened lazily."""
    from catalog_search.adapters.milvus.store import MilvusStore

    return MilvusStore.from_settings(settings)


def embedding_model_id(settings: Settings) -> str:
    """The model id the embedder of ``settings`` reports (whether stored vectors can be carried over)."""
    from catalog_search.adapters.embedding.factory import make_embedder

    embedder = make_embedder(settings)
    try:
        return embedder.model_id
    finally:
        embedder.close()


def reindex_backends() -> Any:
    """The reindex's ``Backends``: Milvus stores, the configured embedders, Kafka."""
    from catalog_search.adapters.kafka import group_offsets, make_event_log
    from catalog_search.app.ingest_wiring import make_processor
    from catalog_search.ingest.reindex.run import Backends

    return Backends(
        stores=open_store, model_id=embedding_model_id,
        processor=lambda settings, sink, store, metrics: make_processor(settings, sink, store=store, metrics=metrics),
        event_log=lambda settings, group: make_event_log(settings, group_id=group,
                                                         client_id="catalog-reindex-follower"),
        group_offsets=lambda settings: group_offsets(settings, settings.kafka.topic))


def run_reindex(args: argparse.Namespace, live: Settings) -> int:
    from catalog_search.ingest.reindex.run import reindex

    opts = options(args)
    new = new_settings(live, args)
    _sigterm_interrupts()

    seen: list[str] = []

    def phase(name: str, info: dict[str, Any]) -> None:
        seen.append(name)
        print(f"reindex: {name} {json.dumps(info, ensure_ascii=False, default=str)}", file=sys.stderr, flush=True)

    try:
        result = reindex(live, new, opts, backends=reindex_backends(), on_phase=phase)
    except KeyboardInterrupt:
        where = (f"after the swap: alias {live.milvus.alias} -> {new.milvus.collection}" if "swapped" in seen
                 else f"before the swap: alias {live.milvus.alias} unchanged, {new.milvus.collection} incomplete")
        print(f"reindex interrupted {where}", file=sys.stderr)
        raise
    if args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False, default=str))
    else:
        print(report(result))
    return GATE_FAILED if result.gate_failed else 0


def report(result: Any) -> str:
    lines = [f"reindex {result.alias}: {result.old} -> {result.new}", f"vectors: {result.vectors}"]
    if result.build is not None:
        b = result.build
        lines.append(f"build: {b.rows} rows from {b.source}; {b.copied_vectors} vectors copied, {b.embedded_texts} "
                     f"texts embedded, {b.rejected} rejected, {b.seconds:.1f}s")
    if result.catch_up:
        counts = " ".join(f"{k}={v}" for k, v in result.catch_up.items())
        lines.append(f"catch-up (group {result.group}): {counts}")
    refused = (result.build.rejected if result.build else 0) + result.catch_up.get("dead_lettered", 0)
    if refused:
        lines.append(f"{refused} row(s)/event(s) refused by ingest, reasons in {result.rejects}")
    if result.gate is not None:
        lines.append(result.gate.summary())
    lines.append(f"swapped: alias {result.alias} -> {result.new}" if result.swapped
                 else f"not swapped: alias {result.alias} -> {result.old}")
    lines += ["next:"] + [f"  - {step}" for step in result.next_steps]
    return "\n".join(lines)


def run_alias(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(settings)
    try:
        if args.set:
            before = store.alias_target(settings.milvus.alias)
            store.set_alias(settings.milvus.alias, args.set)
            print(f"alias {settings.milvus.alias}: {before} -> {args.set}")
            return 0
        target = store.alias_target(settings.milvus.alias)
    finally:
        store.close()
    if target is None:
        print(f"alias {settings.milvus.alias} does not exist", file=sys.stderr)
        return 3
    print(json.dumps({"alias": settings.milvus.alias, "collection": target}) if args.json
          else f"{settings.milvus.alias} -> {target}")
    return 0


def _sigterm_interrupts() -> None:
    """SIGTERM stops a reindex like Ctrl-C: nothing swapped mid-way; with --follow, a clean stop after the swap."""
    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupt)
