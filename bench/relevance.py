"""Peer relevance: the seeds' recipe (FAISS ``IndexFlatIP`` over the dense vectors, dense only) vs our retrieval.

    .venv/bin/python bench/relevance.py [--dataset DIR] [--limit-queries 2000] [--milvus-uri URI]
                                        [--eval-results results.json] [--build] [--json out.json]

Judged set: the Home Depot dev data (``products.jsonl`` {sku, title}, ``queries.tsv``, ``qrels.tsv``; default
``<repo>/../shared/datasets/homedepot`` or ``$CATALOG_BENCH_HOMEDEPOT``), read in place, never copied. Query selection
is ``catalog-search eval``'s: the first ``--limit-queries`` queries of the file, then those with a relevant judgment.

The 54,667 titles are NOT re-embedded (~12 min on 2 cores): the skus and dense vectors are read (read only) from the
evaluation collection that ``catalog-search eval`` built on the Milvus server at ``--milvus-uri`` (default
``$CATALOG_BENCH_EVAL_URI`` or http://127.0.0.1:19611); its name comes from ``app.eval_collection.eval_collection`` (model,
dim, hash of the products file, BM25 signature). When the server or the collection is missing the section is skipped with the reason,
unless ``--build`` was given once: then a Milvus Lite server of our own under ``~/.cache/catalog-search/bench-eval``
gets the collection through ``app.eval_collection.prepare_collection`` (the real ingest code), and later runs find it
there by themselves when ``--milvus-uri`` does not answer.

1. seeds' recipe: ``faiss.IndexFlatIP`` over those unit vectors (= cosine, exact), queries embedded with the same
   embedder (``embed_queries``: E5 ``query: `` prefix), top 100;
2. ours: the real ``Searcher`` (``evaluate.runner.evaluate``) for ``--configs`` (default: ``dense`` as a cross-check
   of (1) on Milvus, and the product default: both retrievers fused as ``CATALOG_SEARCH_FUSION`` / ``_ALPHA`` say, RRF
   where the settings have no such field) plus their ``+rerank`` variants when a reranker is configured; or, with
   ``--eval-results``, the rows of a ``catalog-search eval --out`` results.json (the default config, ``dense``, the
   best row and every ``+rerank`` row) instead of measuring them here;
3. nDCG@10 (linear gains), Recall@100, MRR@10 from ``evaluate.metrics`` for all of them, and ours / seeds.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from bench.common import HOMEDEPOT, ROOT, add_json_arg, emit, ratio, rnd, version_of  # noqa: E402
from catalog_search.core.settings import Settings, load_settings  # noqa: E402
from catalog_search.evaluate import metrics as M  # noqa: E402
from catalog_search.evaluate.data import load_products, load_qrels, load_queries  # noqa: E402
from catalog_search.app.eval_collection import eval_collection  # noqa: E402

DEFAULT_DATASET = HOMEDEPOT
DEFAULT_URI = os.environ.get("CATALOG_BENCH_EVAL_URI", "http://127.0.0.1:19611")
BUILD_DIR = Path(os.environ.get("CATALOG_BENCH_EVAL_DIR", Path.home() / ".cache" / "catalog-search" / "bench-eval"))
DEFAULT = "default"                     # --configs name of the product default (CATALOG_SEARCH_FUSION / _ALPHA)
METRICS = ("ndcg@10", "recall@100", "mrr@10")
TOP = 100


def default_config_name(settings: Settings) -> str:
    """The eval-config name of the product's default retrieval: both retrievers fused as the settings say
    (``search_fusion`` / ``search_alpha``)."""
    return "hybrid-rrf" if settings.search.fusion == "rrf" else f"hybrid-weighted-a{settings.search.alpha:g}"


def make_config(name: str, settings: Settings) -> Any:
    """An ``EvalConfig`` by name: ``default`` (the product default), a name of ``evaluate.configs``, or
    ``hybrid-weighted-a<alpha>`` for any alpha; ``+rerank`` suffix allowed. Fusion and alpha are always explicit."""
    from catalog_search.evaluate import configs as C

    rerank = name.endswith("+rerank")
    base = name.removesuffix("+rerank")
    if base == DEFAULT:
        base = default_config_name(settings)
    suffix = "+rerank" if rerank else ""
    known = {n: c for n, c in C.available(rerank_configured=True).items() if c.fusion is not None}
    if base + suffix in known:
        return known[base + suffix]
    if base.startswith("hybrid-weighted-a"):
        alpha = float(base.removeprefix("hybrid-weighted-a"))
        return C.EvalConfig(base + suffix, retrievers="both", fusion="weighted", alpha=alpha, rerank=rerank)
    raise ValueError(f"unknown config {name!r}: use default, {', '.join(known)} or hybrid-weighted-a<alpha>")


def select_queries(queries: Mapping[str, str], qrels: Mapping[str, Mapping[str, int]],
                   limit: int | None) -> list[str]:
    """``catalog-search eval``'s selection: the first ``limit`` queries of the file, then those with a relevant one."""
    qids = list(queries)[:limit] if limit else list(queries)
    return M.judged_queries(qids, qrels)


def rows_from_results(results: Mapping[str, Any],
                      default: str = "hybrid-rrf") -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """The rows to compare from a ``catalog-search eval`` results.json: the ``default`` config, ``dense``, the best
    row by nDCG@10 and every ``+rerank`` row (each: metrics + description); plus the file's meta."""
    configs = results.get("configs") or {}
    if not configs:
        raise ValueError("no configs in the results file")
    wanted = [n for n in (default, "dense") if n in configs]
    best = max(configs, key=lambda n: configs[n].get("ndcg@10", -1))
    wanted += [best] + [n for n in configs if n.endswith("+rerank")]
    out = {}
    for name in dict.fromkeys(wanted):
        row = configs[name]
        out[name] = {"description": row.get("description", ""), "queries": row.get("queries"),
                     **{k: row.get(k) for k in METRICS}}
    return out, dict(results.get("meta") or {})


def read_vectors(uri: str, collection: str, skus: Sequence[str], *, chunk: int = 2000) -> tuple[list[str], np.ndarray]:
    """(skus found, their dense vectors) of the live rows among ``skus``, queried by sku chunks (read only; Lite
    2.5.1's query iterator fails on its last, empty page)."""
    from pymilvus import MilvusClient

    from catalog_search.adapters.milvus import schema as S
    from catalog_search.adapters.milvus.rows import in_filter

    client = MilvusClient(uri=uri, timeout=60)
    found: list[str] = []
    chunks: list[np.ndarray] = []
    try:
        for i in range(0, len(skus), chunk):
            part = list(skus[i:i + chunk])
            rows = client.query(collection, filter=f"{in_filter(S.SKU, part)} and {S.DELETED} == false",
                                output_fields=[S.SKU, S.DENSE], limit=len(part), timeout=60)
            found.extend(r[S.SKU] for r in rows)
            if rows:
                chunks.append(np.asarray([r[S.DENSE] for r in rows], dtype=np.float32))
    finally:
        client.close()
    return found, (np.concatenate(chunks) if chunks else np.zeros((0, 0), np.float32))


def collection_state(uri: str, collection: str) -> tuple[bool, str]:
    """(usable, reason): the server answers and holds ``collection`` with rows."""
    from pymilvus import MilvusClient
    try:
        client = MilvusClient(uri=uri, timeout=5)
    except Exception as exc:  # noqa: BLE001 - any connection failure means: not available
        return False, f"no Milvus server answers at {uri} ({type(exc).__name__})"
    try:
        if not client.has_collection(collection, timeout=10):
            return False, f"the Milvus server at {uri} has no collection {collection}"
        return True, ""
    finally:
        client.close()


def own_collection(settings: Settings, products: Path, skus: Sequence[str], collection: str, *,
                   build: bool) -> tuple[Any, str] | None:
    """Our own Milvus Lite server under ``BUILD_DIR`` holding the eval collection, started; None when it does not
    hold it and ``build`` is off. With ``build`` the collection is made by ``app.eval_collection.prepare_collection``."""
    from catalog_search.app.localstack import MilvusLiteServer, free_port

    if not build and not (BUILD_DIR / "milvus.db").exists():
        return None
    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    server = MilvusLiteServer(BUILD_DIR, free_port()).start()
    try:
        usable, _ = collection_state(server.uri, collection)
        if not usable and not build:
            server.stop()
            return None
        if not usable or build:
            from catalog_search.app.eval_collection import prepare_collection

            prepared = prepare_collection(settings.replace(**{"milvus_uri": server.uri}), products, skus,
                                          rejects=BUILD_DIR / "rejects.jsonl", progress=sys.stderr.isatty())
            print(f"eval collection {prepared.collection} on {server.uri}: {prepared.products} products "
                  f"({'reused' if prepared.reused else f'built in {prepared.ingest_seconds:.0f}s'})", file=sys.stderr)
    except BaseException:
        server.stop()
        raise
    return server, server.uri


def faiss_run(skus: Sequence[str], vectors: np.ndarray, embedder: Any, queries: Mapping[str, str],
              qids: Sequence[str], qrels: Mapping[str, Mapping[str, int]]) -> dict[str, Any]:
    import faiss

    started = time.perf_counter()
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    build_s = time.perf_counter() - started

    started = time.perf_counter()
    qv = np.concatenate([embedder.embed_queries([queries[q] for q in qids[i:i + 64]])
                         for i in range(0, len(qids), 64)]) if qids else np.zeros((0, vectors.shape[1]), np.float32)
    embed_s = time.perf_counter() - started

    started = time.perf_counter()
    _, ids = index.search(np.ascontiguousarray(qv, dtype=np.float32), TOP)
    search_s = time.perf_counter() - started
    per_query = {q: M.query_metrics([skus[j] for j in row if j >= 0], qrels[q]) for q, row in zip(qids, ids)}
    n = max(len(qids), 1)
    return {"per_query": per_query, "metrics": M.mean_metrics(per_query), "index_build_s": rnd(build_s, 2),
            "query_embed_ms_per_query": rnd(embed_s * 1000 / n, 2), "search_ms_per_query": rnd(search_s * 1000 / n, 3)}


def run(dataset: Path = DEFAULT_DATASET, limit_queries: int | None = 2000, milvus_uri: str = DEFAULT_URI,
        eval_results: Path | None = None, configs: Sequence[str] = ("dense", DEFAULT),
        build: bool = False) -> dict[str, Any]:
    products, queries_path, qrels_path = (dataset / n for n in ("products.jsonl", "queries.tsv", "qrels.tsv"))
    missing = [str(p) for p in (products, queries_path, qrels_path) if not p.is_file()]
    if missing:
        return {"skipped": f"judged set not found: {', '.join(missing)}"}

    from catalog_search.adapters.embedding.factory import make_embedder

    settings = load_settings()
    embedder = make_embedder(settings)
    corpus = load_products(products)
    queries, qrels = load_queries(queries_path), load_qrels(qrels_path)
    qids = select_queries(queries, qrels, limit_queries)
    collection = eval_collection(embedder.model_id, embedder.dim, products, settings.milvus.bm25_analyzer)
    default_name = default_config_name(settings)

    server = None
    usable, reason = collection_state(milvus_uri, collection)
    if not usable:
        own = own_collection(settings, products, corpus, collection, build=build)
        if own is None:
            return {"skipped": f"{reason}; point --milvus-uri (or CATALOG_BENCH_EVAL_URI) at the server where "
                               "`catalog-search eval` built it (docs/relevance.md), or run bench/relevance.py --build "
                               f"once (embeds all titles into {BUILD_DIR}: ~12 min on 2 cores; later runs reuse it)",
                    "collection": collection}
        server, milvus_uri = own
    try:
        started = time.perf_counter()
        skus, vectors = read_vectors(milvus_uri, collection, corpus)
        read_s = time.perf_counter() - started
        if len(skus) != len(corpus):
            print(f"warning: the collection holds {len(skus)} live rows, the products file {len(corpus)}",
                  file=sys.stderr)
        seeds = faiss_run(skus, vectors, embedder, queries, qids, qrels)

        source = "measured in this run"
        meta: dict[str, Any] = {}
        if eval_results is not None:
            rows, meta = rows_from_results(json.loads(Path(eval_results).read_text(encoding="utf-8")), default_name)
            source = f"from {eval_results}"
            agreement = None
        else:
            rows, agreement = ours_live(settings, milvus_uri, collection, configs, queries, qrels, qids,
                                        seeds["per_query"])
    finally:
        if server is not None:
            server.stop()

    seed_ndcg = seeds["metrics"]["ndcg@10"]
    default = rows.get(default_name)
    return {
        "embedder": f"{embedder.model_id} ({embedder.dim}-d)", "collection": collection,
        "products": len(skus), "queries": len(qids), "limit_queries": limit_queries, "gains": "linear",
        "faiss": version_of("faiss-cpu"), "vectors_read_s": rnd(read_s, 1),
        "seeds": {"description": "FAISS IndexFlatIP over the stored passage vectors, dense only, top 100",
                  **{k: rnd(v, 4) for k, v in seeds["metrics"].items()},
                  **{k: v for k, v in seeds.items() if k not in ("per_query", "metrics")}},
        "ours_source": source, "ours_meta": {k: meta[k] for k in ("queries", "collection", "products") if k in meta},
        "ours": rows,
        "dense_agreement": agreement,
        "default_config": default_name,
        "default_over_seeds_ndcg": ratio(default and default.get("ndcg@10"), seed_ndcg),
        "best_config": max(rows, key=lambda n: rows[n].get("ndcg@10") or -1) if rows else None,
        "rerank_backend": settings.rerank.backend,
        "rerank_rows": [n for n in rows if n.endswith("+rerank")],
    }


def ours_live(settings: Settings, uri: str, collection: str, names: Sequence[str], queries: Mapping[str, str],
              qrels: Mapping[str, Mapping[str, int]], qids: Sequence[str],
              seed_per_query: Mapping[str, Mapping[str, float]]) -> tuple[dict[str, dict[str, Any]], dict | None]:
    """Our configs through the real Searcher, read only; plus how closely Milvus ``dense`` agrees with FAISS."""
    from catalog_search.app.eval_collection import eval_searcher, eval_settings
    from catalog_search.evaluate.runner import evaluate

    rerank = settings.rerank.backend != "none"
    wanted = list(dict.fromkeys([*names, *([f"{n}+rerank" for n in names if not n.endswith("+rerank")]
                                          if rerank else [])]))
    selected = list({c.name: c for c in (make_config(n, settings) for n in wanted)}.values())
    s = eval_settings(settings.replace(**{"milvus_uri": uri}), collection)
    subset = {q: queries[q] for q in qids}
    with eval_searcher(s) as searcher:
        results = evaluate(searcher, selected, subset, qrels, progress=sys.stderr.isatty())
    rows: dict[str, dict[str, Any]] = {}
    agreement = None
    for r in results:
        total = r.latency_ms.get("total", {})
        rows[r.config.name] = {"description": r.config.describe(), "queries": r.queries, "degraded": r.degraded,
                               **{k: rnd(v, 4) for k, v in r.metrics.items()},
                               "total_p50_ms": total.get("p50"), "total_p95_ms": total.get("p95")}
        if r.config.name == "dense":
            diffs = [abs(r.per_query[q]["ndcg@10"] - seed_per_query[q]["ndcg@10"]) for q in r.per_query]
            agreement = {"queries_same_ndcg10": sum(d < 1e-9 for d in diffs), "queries": len(diffs),
                         "mean_abs_ndcg10_diff": rnd(sum(diffs) / max(len(diffs), 1), 5)}
    return rows, agreement


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--limit-queries", type=int, default=2000)
    parser.add_argument("--milvus-uri", default=DEFAULT_URI)
    parser.add_argument("--eval-results", type=Path, default=None,
                        help="take our rows from this `catalog-search eval` results.json instead of measuring them")
    parser.add_argument("--configs", default=f"dense,{DEFAULT}",
                        help="comma-separated configs measured live: default (the product default from "
                             "CATALOG_SEARCH_*), names of evaluate/configs.py, hybrid-weighted-a<alpha>")
    parser.add_argument("--build", action="store_true",
                        help="build the eval collection on our own Milvus Lite server when it is missing")
    add_json_arg(parser)
    args = parser.parse_args(argv)
    emit(run(args.dataset, args.limit_queries or None, args.milvus_uri, args.eval_results,
             [c.strip() for c in args.configs.split(",") if c.strip()], args.build), args.json)


if __name__ == "__main__":
    main()
