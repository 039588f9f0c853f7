"""Named retrieval configurations compared by ``catalog-search eval``.

* ``bm25``: Milvus BM25 alone (``SearchRequest.retrievers="bm25"``: no query embedding, no fusion);
* ``dense``: dense ANN alone, no rerank (the seeds' recipe);
* ``hybrid-rrf``: dense + BM25, reciprocal rank fusion (k=60);
* ``hybrid-weighted-a0.2`` ... ``-a0.7``: min-max fusion, alpha = weight of the dense side;
* ``default``: what a client gets when it sets only the query (the server's ``CATALOG_SEARCH_FUSION`` and
  ``CATALOG_SEARCH_ALPHA``; the request leaves fusion and alpha unset, exactly like the gRPC service does);
* each of those with ``+rerank`` when a reranker is configured (``CATALOG_RERANK_BACKEND`` != none);
* each (but ``dense``) with ``+spell``: misspelled query terms corrected against the evaluation collection's
  vocabulary on the BM25 side (``retrieve.spelling``); asked for by name only, never part of "all". The configs
  without it never correct (``default`` follows the server's ``CATALOG_SPELL_ENABLED``, like a client that sets
  only the query).

Weighted fusion with alpha 0 or 1 is NOT a single retriever: products found only by the other list still enter the
fused list (with score 0) and fill the tail, so the single-retriever configs use ``retrievers`` instead.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from catalog_search.retrieve.domain import SearchRequest

TOP_K = 100           # Recall@100 needs the first 100 results
CANDIDATES = 100


@dataclass(frozen=True)
class EvalConfig:
    name: str
    retrievers: Literal["both", "dense", "bm25"] = "both"
    fusion: Literal["rrf", "weighted"] | None = "rrf"     # None: the searcher's default (settings)
    alpha: float | None = 0.5
    rerank: bool = False
    note: str = ""                                         # what "default" resolves to, for the report
    depth: int | None = None                               # candidate sweep: each retriever searches this deep
    spell: bool | None = False                             # correct the BM25 query; None: the server's default

    def request(self, query: str) -> SearchRequest:
        if self.depth is not None:
            return SearchRequest(query=query, top_k=min(TOP_K, self.depth), rerank=self.rerank,
                                 candidates=self.depth, fusion=self.fusion, alpha=self.alpha,
                                 retrievers=self.retrievers, spell_correct=self.spell)
        return SearchRequest(query=query, top_k=TOP_K, rerank=self.rerank, candidates=CANDIDATES,
                             fusion=self.fusion, alpha=self.alpha, retrievers=self.retrievers,
                             spell_correct=self.spell)

    def overrides(self) -> dict[str, object]:
        """The request fields this config sets on a replayed request (``catalog-search eval --replay``); the
        ``default`` config keeps the logged fusion and alpha."""
        out: dict[str, object] = {"retrievers": self.retrievers, "rerank": self.rerank}
        if self.fusion is not None:
            out.update(fusion=self.fusion, alpha=self.alpha)
        if self.spell is not None:
            out["spell_correct"] = self.spell
        return out

    def describe(self) -> str:
        if self.fusion is None:
            what = f"server defaults ({self.note})" if self.note else "server defaults"
        elif self.retrievers != "both":
            what = "BM25 only" if self.retrievers == "bm25" else "dense only"
        elif self.fusion == "rrf":
            what = "dense + BM25, RRF k=60"
        else:
            what = f"dense + BM25, weighted min-max, alpha(dense)={self.alpha:g}"
        return what + (", reranked" if self.rerank else "") + (", spell-corrected BM25 query" if self.spell else "")


BASE_CONFIGS: tuple[EvalConfig, ...] = (
    EvalConfig("bm25", retrievers="bm25"),
    EvalConfig("dense", retrievers="dense"),
    EvalConfig("hybrid-rrf"),
    *(EvalConfig(f"hybrid-weighted-a{a:g}", fusion="weighted", alpha=a) for a in (0.2, 0.3, 0.35, 0.4, 0.5, 0.7)),
    EvalConfig("default", fusion=None, alpha=None, spell=None),
)
SPELL = "+spell"
ALL_NAMES: tuple[str, ...] = tuple(f"{c.name}{r}{sp}" for c in BASE_CONFIGS for r in ("", "+rerank")
                                   for sp in ("", SPELL) if not (sp and c.retrievers == "dense"))


def available(rerank_configured: bool, default_note: str = "") -> dict[str, EvalConfig]:
    """Every config by name; ``default_note`` says what the server defaults are (shown in the report)."""
    base = [replace(c, note=default_note) if c.fusion is None else c for c in BASE_CONFIGS]
    out = {c.name: c for c in base}
    if rerank_configured:
        for c in base:
            name = f"{c.name}+rerank"
            out[name] = replace(c, name=name, rerank=True)
    for c in list(out.values()):
        if c.retrievers != "dense":                 # spelling changes only what BM25 searches
            out[c.name + SPELL] = replace(c, name=c.name + SPELL, spell=True)
    return out


def sweep(config: EvalConfig, depths: tuple[int, ...]) -> list[EvalConfig]:
    """``config`` once per candidate depth (named ``<name>@<depth>``)."""
    return [replace(config, name=f"{config.name}@{d}", depth=d) for d in depths]


def select(names: list[str] | None, rerank_configured: bool, default_note: str = "") -> list[EvalConfig]:
    """The named configs (every available one but the ``+spell`` variants when ``names`` is empty); ``ValueError``
    for unknown/unavailable ones."""
    known = available(rerank_configured, default_note)
    if not names:
        return [c for c in known.values() if not c.name.endswith(SPELL)]
    out = []
    for name in dict.fromkeys(names):
        if name not in known:
            hint = " (needs a reranker: set CATALOG_RERANK_BACKEND)" if name in ALL_NAMES else ""
            raise ValueError(f"unknown or unavailable config {name!r}{hint}; available: {', '.join(known)}")
        out.append(known[name])
    return out
