"""``catalog-search eval``: load the judged set, prepare the collection, evaluate, report, apply the gate."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from catalog_search.core.errors import ConfigError
from catalog_search.core.settings import Settings
from catalog_search.evaluate import configs as C
from catalog_search.evaluate import report
from catalog_search.evaluate.data import load_products, load_qrels, load_queries
from catalog_search.app.eval_collection import eval_searcher, prepare_collection
from catalog_search.evaluate.runner import evaluate

GATE_FAILED = 3


def default_note(settings: Settings) -> str:
    """What the ``default`` config resolves to under these settings."""
    if settings.search.fusion == "rrf":
        return "RRF k=60"
    return f"weighted min-max, alpha(dense)={settings.search.alpha:g}"


def run_eval(args: argparse.Namespace, settings: Settings) -> int:
    try:
        configs = C.select(args.config, settings.rerank.backend != "none", default_note(settings))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if args.limit_queries is not None and args.limit_queries < 1:
        raise ConfigError("--limit-queries must be >= 1")
    if args.max_drop < 0:
        raise ConfigError("--max-drop must be >= 0")
    baseline = None
    if args.baseline is not None:
        try:
            baseline = report.load_baseline(args.baseline)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None

    skus = load_products(args.products)
    queries = load_queries(args.queries)
    if args.limit_queries:
        queries = dict(list(queries.items())[: args.limit_queries])
    qrels = load_qrels(args.qrels)
    progress = not args.no_progress and sys.stderr.isatty()

    rejects = (args.out or Path(tempfile.gettempdir())) / "eval-rejects.jsonl"
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
    prepared = prepare_collection(settings, args.products, skus, rejects=rejects, progress=progress)
    with eval_searcher(prepared.settings) as searcher:
        results = evaluate(searcher, configs, queries, qrels, gains=args.gains, progress=progress)
    sweep = []
    if args.sweep_candidates:
        default = C.available(False, default_note(settings))["default"]
        # the searcher searches max(CATALOG_SEARCH_CANDIDATES, request candidates) deep: let the request decide
        shallow = prepared.settings.replace(**{"search_candidates": 1})
        with eval_searcher(shallow) as searcher:
            sweep = evaluate(searcher, C.sweep(default, args.sweep_candidates), queries, qrels, gains=args.gains,
                             progress=progress)
    meta = {"products": prepared.products, "collection": prepared.collection, "reused": prepared.reused,
            "ingest_s": round(prepared.ingest_seconds, 1), "queries": results[0].queries if results else 0,
            "embedding": prepared.settings.embed.backend, "gains": args.gains}
    if args.out:
        paths = report.write(results, meta, args.out, sweep)
        print(f"wrote {', '.join(str(p) for p in paths.values())}", file=sys.stderr)
    print(json.dumps(report.to_json(results, meta, sweep=sweep), ensure_ascii=False) if args.json
          else report.markdown(results, meta, sweep))

    if baseline is not None:
        failures = report.gate(results, baseline, args.max_drop)
        for line in failures:
            print(f"regression: {line}", file=sys.stderr)
        if failures:
            return GATE_FAILED
    return 0
