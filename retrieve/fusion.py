"""Fusion of ranked lists (pure): reciprocal rank fusion and weighted min-max fusion.

Inputs are ranked lists of ``(sku, score)``, best first (higher score = better). Equal scores share a rank
(competition ranking: 1, 2, 2, 4), so the fused order never depends on how a backend orders its ties. Outputs are
``Candidate``s, best first, ties broken by the sku so that results are deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

Ranked = Sequence[tuple[str, float]]
RRF_K = 60


@dataclass(frozen=True)
class Candidate:
    sku: str
    fused: float
    stage: dict[str, float] = field(default_factory=dict)     # list name -> that list's raw score

    @property
    def dense(self) -> float | None:
        return self.stage.get("dense")

    @property
    def bm25(self) -> float | None:
        return self.stage.get("bm25")


def _check(name: str, ranked: Ranked) -> list[tuple[str, float]]:
    items = [(sku, float(score)) for sku, score in ranked]
    for sku, score in items:
        if not math.isfinite(score):
            raise ValueError(f"list {name!r}: non-finite score {score!r} for {sku!r}")
    if len({sku for sku, _ in items}) != len(items):
        raise ValueError(f"list {name!r} repeats a sku")
    return items


def ranks(ranked: Ranked) -> dict[str, int]:
    """1-based competition ranks by descending score (equal scores share the best rank)."""
    items = sorted(ranked, key=lambda it: -it[1])
    out: dict[str, int] = {}
    prev: float | None = None
    rank = 0
    for i, (sku, score) in enumerate(items, start=1):
        if prev is None or score != prev:
            rank, prev = i, score
        out[sku] = rank
    return out


def _ordered(fused: dict[str, float], stage: dict[str, dict[str, float]]) -> list[Candidate]:
    order = sorted(fused, key=lambda sku: (-fused[sku], sku))
    return [Candidate(sku, fused[sku], stage[sku]) for sku in order]


def rrf(lists: Mapping[str, Ranked], k: int = RRF_K) -> list[Candidate]:
    """Reciprocal rank fusion: ``sum over lists of 1 / (k + rank)``; ``lists`` maps a name ("dense") to a list."""
    if k < 0:
        raise ValueError("k must be >= 0")
    fused: dict[str, float] = {}
    stage: dict[str, dict[str, float]] = {}
    for name, ranked in lists.items():
        items = _check(name, ranked)
        scores = dict(items)
        for sku, rank in ranks(items).items():
            fused[sku] = fused.get(sku, 0.0) + 1.0 / (k + rank)
            stage.setdefault(sku, {})[name] = scores[sku]
    return _ordered(fused, stage)


def min_max(ranked: Ranked) -> dict[str, float]:
    """Scores scaled to [0, 1] within the list; a list whose scores are all equal maps to 1.0."""
    items = list(ranked)
    if not items:
        return {}
    lo = min(s for _, s in items)
    hi = max(s for _, s in items)
    if hi == lo:
        return {sku: 1.0 for sku, _ in items}
    return {sku: (s - lo) / (hi - lo) for sku, s in items}


def weighted(dense: Ranked, bm25: Ranked, alpha: float = 0.5) -> list[Candidate]:
    """``alpha * norm(dense) + (1 - alpha) * norm(bm25)``, each list min-max normalised; absent = 0."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError("alpha must be between 0 and 1")
    d_items, b_items = _check("dense", dense), _check("bm25", bm25)
    fused: dict[str, float] = {}
    stage: dict[str, dict[str, float]] = {}
    for name, items, weight in (("dense", d_items, alpha), ("bm25", b_items, 1.0 - alpha)):
        raw = dict(items)
        for sku, norm in min_max(items).items():
            fused[sku] = fused.get(sku, 0.0) + weight * norm
            stage.setdefault(sku, {})[name] = raw[sku]
    return _ordered(fused, stage)
