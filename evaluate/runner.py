"""Measure each configuration on a judged set through the real search code.

``evaluate``: every judged query goes through the given searcher (the production ``Searcher`` the app shell builds,
over the evaluation collection that ``app/eval_collection.py`` prepared with the real ingest code) once per config;
per-query metrics (``evaluate.metrics``) are averaged and per-stage latencies (``timings_ms``) summarised as
p50/p95. The app turns the query-embedding cache off so that every config pays for its own embedding.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from tqdm import tqdm

from catalog_search.evaluate import metrics as M
from catalog_search.evaluate.configs import EvalConfig
from catalog_search.retrieve.domain import SearchRequest, SearchResponse

log = logging.getLogger(__name__)


@dataclass
class ConfigResult:
    config: EvalConfig
    metrics: dict[str, float]                      # means over the evaluated queries
    latency_ms: dict[str, dict[str, float]]        # stage -> {"p50": .., "p95": ..}
    queries: int
    degraded: int = 0                              # responses the searcher marked degraded (e.g. reranker down)
    corrected: int = 0                             # responses whose BM25 query spelling changed
    per_query: dict[str, dict[str, float]] = field(default_factory=dict)

    def as_dict(self, *, per_query: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"description": self.config.describe(), "queries": self.queries,
                               "degraded": self.degraded, "corrected": self.corrected,
                               "corrected_share": round(self.corrected / self.queries, 4) if self.queries else 0.0,
                               **{k: round(v, 4) for k, v in self.metrics.items()},
                               "latency_ms": self.latency_ms}
        if per_query:
            out["per_query"] = self.per_query
        return out


class Searches(Protocol):
    """What the evaluation needs of a searcher (``retrieve.searcher.Searcher``)."""

    def search(self, req: SearchRequest) -> SearchResponse: ...


def evaluate(searcher: Searches, configs: Sequence[EvalConfig], queries: Mapping[str, str],
             qrels: Mapping[str, Mapping[str, int]], *, gains: M.Gains = "linear",
             progress: bool = True) -> list[ConfigResult]:
    """Every query with at least one relevant judgment, through ``searcher``, once per config."""
    judged_ids = M.judged_queries(queries, qrels)
    results = []
    for config in configs:
        per_query: dict[str, dict[str, float]] = {}
        stages: dict[str, list[float]] = {}
        degraded = corrected = 0
        for qid in tqdm(judged_ids, desc=f"eval {config.name}", unit="q", disable=not progress):
            resp = searcher.search(config.request(queries[qid]))
            degraded += resp.degraded
            corrected += bool(resp.corrected_query)
            per_query[qid] = M.query_metrics([h.sku for h in resp.hits], qrels[qid], gains)
            for stage, ms in resp.timings_ms.items():
                stages.setdefault(stage, []).append(ms)
        means = M.mean_metrics(per_query)
        latency = {stage: {"p50": round(M.percentile(v, 50), 2), "p95": round(M.percentile(v, 95), 2)}
                   for stage, v in stages.items()}
        results.append(ConfigResult(config, means, latency, len(per_query), degraded, corrected, per_query))
    return results
