"""Run a judged set through the real ingest and retrieval code and measure each configuration.

1. ``prepare_collection``: the products go through ``ingest.backfill`` (same validation, diff, embedding and upsert
   as production) into a separate collection named from model + dim + corpus hash (``evaluate.naming``) with its own
   alias; a collection that already holds every sku of the corpus is reused as is.
2. ``evaluate``: every judged query goes through ``retrieve.app.make_searcher(settings).search`` once per config;
   per-query metrics (``evaluate.metrics``) are averaged and per-stage latencies (``timings_ms``) summarised as
   p50/p95. The query-embedding cache is off so that every config pays for its own embedding.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from catalog_search.adapters.embedding.factory import make_embedder
from catalog_search.core.settings import Settings
from catalog_search.evaluate import metrics as M
from catalog_search.evaluate.configs import EvalConfig
from catalog_search.evaluate.naming import eval_collection

log = logging.getLogger(__name__)


@dataclass
class ConfigResult:
    config: EvalConfig
    metrics: dict[str, float]                      # means over the evaluated queries
    latency_ms: dict[str, dict[str, float]]        # stage -> {"p50": .., "p95": ..}
    queries: int
    degraded: int = 0                              # responses the searcher marked degraded (e.g. reranker down)
    per_query: dict[str, dict[str, float]] = field(default_factory=dict)

    def as_dict(self, *, per_query: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"description": self.config.describe(), "queries": self.queries,
                               "degraded": self.degraded, **{k: round(v, 4) for k, v in self.metrics.items()},
                               "latency_ms": self.latency_ms}
        if per_query:
            out["per_query"] = self.per_query
        return out


@dataclass(frozen=True)
class Prepared:
    settings: Settings          # settings pointing at the evaluation collection and alias
    collection: str
    products: int
    reused: bool
    ingest_seconds: float


def eval_settings(settings: Settings, collection: str) -> Settings:
    return settings.replace(**{"milvus_collection": collection, "milvus_alias": f"{collection}_a",
                                       "query_cache_size": 0})


def prepare_collection(settings: Settings, products: Path, skus: Sequence[str], *, rejects: Path,
                       progress: bool = True) -> Prepared:
    """Build (or reuse) the evaluation collection for ``products`` with the configured embedder."""
    from catalog_search.adapters.milvus.store import MilvusStore
    from catalog_search.app.ingest_wiring import make_batcher, make_processor
    from catalog_search.ingest.backfill import FileDeadLetterSink, backfill

    embedder = make_embedder(settings)
    name = eval_collection(embedder.model_id, embedder.dim, products, settings.milvus.bm25_analyzer)
    close = getattr(embedder, "close", None)
    if callable(close):
        close()
    s = eval_settings(settings, name)
    store = MilvusStore.from_settings(s)
    try:
        store.ensure_collection()
        live = store.counts().live
        if live == len(skus) and len(store.fetch([skus[0], skus[-1]])) == 2:
            log.info("reusing %s (%d products)", name, live)
            return Prepared(s, name, live, True, 0.0)
        started = time.monotonic()
        sink = FileDeadLetterSink(rejects)
        with make_processor(s, sink, store=store) as processor:
            backfill(products, processor, make_batcher(s), progress=progress)
        live = store.counts().live
        if sink.count:
            log.warning("%d product line(s) rejected by ingest, reasons in %s", sink.count, rejects)
        return Prepared(s, name, live, False, time.monotonic() - started)
    finally:
        store.close()


def evaluate(settings: Settings, configs: Sequence[EvalConfig], queries: Mapping[str, str],
             qrels: Mapping[str, Mapping[str, int]], *, gains: M.Gains = "linear",
             progress: bool = True, searcher: Any = None) -> list[ConfigResult]:
    """Every query with at least one relevant judgment, through the real ``Searcher``, once per config."""
    from catalog_search.app.search_wiring import make_searcher

    judged_ids = M.judged_queries(queries, qrels)
    own = searcher is None
    searcher = searcher or make_searcher(settings)
    results = []
    try:
        for config in configs:
            per_query: dict[str, dict[str, float]] = {}
            stages: dict[str, list[float]] = {}
            degraded = 0
            for qid in tqdm(judged_ids, desc=f"eval {config.name}", unit="q", disable=not progress):
                resp = searcher.search(config.request(queries[qid]))
                degraded += resp.degraded
                per_query[qid] = M.query_metrics([h.sku for h in resp.hits], qrels[qid], gains)
                for stage, ms in resp.timings_ms.items():
                    stages.setdefault(stage, []).append(ms)
            means = M.mean_metrics(per_query)
            latency = {stage: {"p50": round(M.percentile(v, 50), 2), "p95": round(M.percentile(v, 95), 2)}
                       for stage, v in stages.items()}
            results.append(ConfigResult(config, means, latency, len(per_query), degraded, per_query))
    finally:
        if own:
            searcher.close()
    return results
