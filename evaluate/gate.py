"""Score what an alias serves on a judged set with the default search: the scorer of the reindex gate.

``score`` runs every judged query through the real ``Searcher`` (built by the app shell, via
``evaluate.runner.evaluate``) with the request a client sends when it sets only the query (``SearchRequest``
defaults: fusion, rerank, candidates), reading through ``settings.milvus.alias``. The metrics are those of
``catalog-search eval`` (nDCG@10 with linear gains, Recall@100, MRR@10; unjudged results count as non-relevant).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from catalog_search.core.settings import Settings
from catalog_search.evaluate import metrics as M
from catalog_search.evaluate.configs import EvalConfig
from catalog_search.evaluate.data import EvalDataError, load_qrels, load_queries
from catalog_search.evaluate.runner import Searches, evaluate


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


def score(searcher: Searches, judged: JudgedSet, *, progress: bool = False) -> dict[str, float]:
    """nDCG@10, Recall@100, MRR@10 (means), judged query count and degraded responses of the default search."""
    [result] = evaluate(searcher, [DEFAULT_SEARCH], judged.queries, judged.qrels, progress=progress)
    return {**result.metrics, "queries": result.queries, "degraded": result.degraded}


@dataclass(frozen=True)
class JudgedScorer:
    """The reindex gate's scorer (``ingest.reindex.plan.Scorer``): the default search on a judged set, through a
    searcher the app shell builds for the settings being scored (``searcher_for``, a context manager)."""

    judged: JudgedSet
    searcher_for: Callable[[Settings], AbstractContextManager[Searches]]
    progress: bool = False

    @property
    def queries(self) -> int:
        return len(self.judged.judged_queries)

    def score(self, settings: Settings) -> dict[str, float]:
        with self.searcher_for(settings) as searcher:
            return score(searcher, self.judged, progress=self.progress)


