"""Score what an alias serves on a judged set with the default search, and the reindex gate built on it.

``score`` runs every judged query through the real ``Searcher`` (``retrieve.app.make_searcher``, via
``evaluate.runner.evaluate``) with the request a client sends when it sets only the query (``SearchRequest``
defaults: fusion, rerank, candidates), reading through ``settings.milvus.alias``. The metrics are those of
``catalog-search eval`` (nDCG@10 with linear gains, Recall@100, MRR@10; unjudged results count as non-relevant).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from catalog_search.core.settings import Settings
from catalog_search.evaluate import metrics as M
from catalog_search.evaluate.configs import EvalConfig
from catalog_search.evaluate.data import EvalDataError, load_qrels, load_queries
from catalog_search.evaluate.runner import evaluate


# What a client gets when it sends only the query: the server's fusion/alpha, reranked when a reranker is configured.
DEFAULT_SEARCH = EvalConfig("default", fusion=None, alpha=None, rerank=True)


@dataclass(frozen=True)
class JudgedSet:
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]

    @classmethod
    def load(cls, queries: Path, qrels: Path) -> "JudgedSet":
        """Both TSV files (formats of ``catalog-search eval``); ``EvalDataError`` when malformed or unusable."""
        judged = cls(load_queries(queries), load_qrels(qrels))
        if not judged.judged_queries:
            raise EvalDataError(f"{qrels}: no query of {queries} has a relevant judgment (grade >= 1)")
        return judged

    @property
    def judged_queries(self) -> list[str]:
        return M.judged_queries(self.queries, self.qrels)


def score(settings: Settings, judged: JudgedSet, *, progress: bool = False) -> dict[str, float]:
    """nDCG@10, Recall@100, MRR@10 (means), judged query count and degraded responses of the default search."""
    quiet = settings.replace(**{"query_cache_size": 0})
    [result] = evaluate(quiet, [DEFAULT_SEARCH], judged.queries, judged.qrels, progress=progress)
    return {**result.metrics, "queries": result.queries, "degraded": result.degraded}


def passes(before: float, after: float, max_drop: float) -> bool:
    """The new nDCG@10 may be at most ``max_drop`` below the old one (float noise tolerated)."""
    if max_drop < 0:
        raise ValueError("max_drop must be >= 0")
    return after >= before - max_drop - 1e-9


@dataclass(frozen=True)
class GateResult:
    before: Mapping[str, float]          # what the alias served before the swap
    after: Mapping[str, float]           # the new collection
    max_drop: float

    @property
    def passed(self) -> bool:
        return passes(self.before["ndcg@10"], self.after["ndcg@10"], self.max_drop)

    @property
    def delta(self) -> float:
        return self.after["ndcg@10"] - self.before["ndcg@10"]

    def as_dict(self) -> dict[str, Any]:
        def rounded(m: Mapping[str, float]) -> dict[str, float]:
            return {k: round(v, 4) if isinstance(v, float) else v for k, v in m.items()}
        return {"passed": self.passed, "max_drop": self.max_drop, "ndcg@10_delta": round(self.delta, 4),
                "before": rounded(self.before), "after": rounded(self.after)}

    def summary(self) -> str:
        verdict = "passed" if self.passed else "FAILED"
        return (f"gate {verdict}: nDCG@10 {self.before['ndcg@10']:.4f} -> {self.after['ndcg@10']:.4f} "
                f"({self.delta:+.4f}, allowed drop {self.max_drop:g}) on {int(self.after['queries'])} judged queries")
