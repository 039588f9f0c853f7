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


def uses_spelling(configs: list[C.EvalConfig], settings: Settings) -> bool:
    return any(c.spell or (c.spell is None and settings.spell.enabled) for c in configs)


def run_eval(args: argparse.Namespace, settings: Settings) -> int:
    try:
        configs = C.select(args.config, settings.rerank.backend != "none", default_note(settings))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if args.replay is not None:
        if any(getattr(args, name) is not None for name in ("products", "queries", "qrels", "baseline")) or \
                args.sweep_candidates:
            raise ConfigError("--replay replays a query log: it takes no judged set, --baseline or --sweep-candidates")
        return run_replay(args, settings, configs if args.config else [])
    missing = [f"--{name}" for name in ("products", "queries", "qrels") if getattr(args, name) is None]
    if missing:
        raise ConfigError(f"eval needs {', '.join(missing)} (or --replay FILE)")
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
    with eval_searcher(prepared.settings, spelling=uses_spelling(configs, settings)) as searcher:
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


def run_replay(args: argparse.Namespace, settings: Settings, configs: list[C.EvalConfig]) -> int:
    """``eval --replay FILE``: the logged requests against this process's configuration (CATALOG_*: the live alias,
    fusion, models, ...), as logged or with each ``--config``'s overrides."""
    from catalog_search.evaluate import replay as R

    records = R.load_querylog(args.replay)
    if args.limit_queries is not None:
        if args.limit_queries < 1:
            raise ConfigError("--limit-queries must be >= 1")
        records = records[: args.limit_queries]
    progress = not args.no_progress and sys.stderr.isatty()
    runs = [(c.name, c.describe(), c.overrides()) for c in configs] or \
        [("as-logged", "each logged request as it was, under this configuration", {})]
    spelling = settings.spell.enabled or any(o.get("spell_correct") for _, _, o in runs) or \
        any(r.options.get("spell_correct") for r in records)
    results = []
    with eval_searcher(settings, spelling=spelling) as searcher:
        for name, description, overrides in runs:
            results.append(R.replay(searcher, records, name=name, description=description, overrides=overrides,
                                    progress=progress))
    meta = {"records": len(records), "file": str(args.replay), "alias": settings.milvus.alias,
            "embedding": settings.embed.backend, "fusion": settings.search.fusion, "alpha": settings.search.alpha}
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "replay.md").write_text(R.markdown(results, meta), encoding="utf-8")
        (args.out / "replay.json").write_text(json.dumps(R.to_json(results, meta), indent=2, ensure_ascii=False)
                                              + "\n", encoding="utf-8")
        print(f"wrote {args.out / 'replay.md'}, {args.out / 'replay.json'}", file=sys.stderr)
    print(json.dumps(R.to_json(results, meta), ensure_ascii=False) if args.json else R.markdown(results, meta))
    return 0
