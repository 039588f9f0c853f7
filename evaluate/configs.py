"""Named retrieval configurations compared by ``catalog-search eval``.

* ``bm25``: Milvus BM25 alone (``SearchRequest.retrievers="bm25"``: no query embedding, no fusion);
* ``dense``: dense ANN alone, no rerank (the seeds' recipe);
* ``hybrid-rrf``: dense + BM25, reciprocal rank fusion (k=60);
* ``hybrid-weighted-a0.3`` / ``-a0.5`` / ``-a0.7``: min-max fusion, alpha = weight of the dense side;
* each of those with ``+rerank`` when a reranker is configured (``CATALOG_RERANK_BACKEND`` != none).

Weighted fusion with alpha 0 or 1 is NOT a single retriever: products found only by the other list still enter the
fused list (with score 0) and fill the tail, so the single-retriever configs use ``retrievers`` instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from retrieve.domain import SearchRequest

TOP_K = 100           # Recall@100 needs the first 100 results
CANDIDATES = 100


@dataclass(frozen=True)
class EvalConfig:
    name: str
    retrievers: Literal["both", "dense", "bm25"] = "both"
    fusion: Literal["rrf", "weighted"] = "rrf"
    alpha: float = 0.5
    rerank: bool = False

    def request(self, query: str) -> SearchRequest:
        return SearchRequest(query=query, top_k=TOP_K, rerank=self.rerank, candidates=CANDIDATES,
                             fusion=self.fusion, alpha=self.alpha, retrievers=self.retrievers)

    def describe(self) -> str:
        if self.retrievers != "both":
            what = "BM25 only" if self.retrievers == "bm25" else "dense only"
        elif self.fusion == "rrf":
            what = "dense + BM25, RRF k=60"
        else:
            what = f"dense + BM25, weighted min-max, alpha(dense)={self.alpha:g}"
        return what + (", reranked" if self.rerank else "")


BASE_CONFIGS: tuple[EvalConfig, ...] = (
    EvalConfig("bm25", retrievers="bm25"),
    EvalConfig("dense", retrievers="dense"),
    EvalConfig("hybrid-rrf"),
    EvalConfig("hybrid-weighted-a0.3", fusion="weighted", alpha=0.3),
    EvalConfig("hybrid-weighted-a0.5", fusion="weighted", alpha=0.5),
    EvalConfig("hybrid-weighted-a0.7", fusion="weighted", alpha=0.7),
)
ALL_NAMES: tuple[str, ...] = tuple(c.name for c in BASE_CONFIGS) + tuple(f"{c.name}+rerank" for c in BASE_CONFIGS)


def available(rerank_configured: bool) -> dict[str, EvalConfig]:
    out = {c.name: c for c in BASE_CONFIGS}
    if rerank_configured:
        for c in BASE_CONFIGS:
            name = f"{c.name}+rerank"
            out[name] = EvalConfig(name, c.retrievers, c.fusion, c.alpha, rerank=True)
    return out


def select(names: list[str] | None, rerank_configured: bool) -> list[EvalConfig]:
    """The named configs (all available ones when ``names`` is empty); ``ValueError`` for unknown/unavailable."""
    known = available(rerank_configured)
    if not names:
        return list(known.values())
    out = []
    for name in dict.fromkeys(names):
        if name not in known:
            hint = " (needs a reranker: set CATALOG_RERANK_BACKEND)" if name in ALL_NAMES else ""
            raise ValueError(f"unknown or unavailable config {name!r}{hint}; available: {', '.join(known)}")
        out.append(known[name])
    return out
