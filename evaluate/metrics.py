"""Ranking metrics (pure): nDCG@k with graded gains, Recall@k, MRR@k.

Conventions (stated in every report):

* ``judged`` maps sku -> grade (0-3 in the Home Depot set). A result that is not judged counts as non-relevant
  (gain 0): the metrics are a lower bound when the judgments are incomplete.
* Gains are linear by default (gain = grade, the reference numbers of issue 4 use them); ``gains="exponential"``
  (gain = 2**grade - 1) weighs the top grade more and is available for comparison.
* Relevant (Recall, MRR) = grade >= 1.
* The ideal DCG ranks all judged products of the query by grade; a query with no relevant judgment has no defined
  nDCG/Recall/MRR and is left out of the means by the caller (``has_relevant``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

Gains = Literal["linear", "exponential"]
RELEVANT_GRADE = 1


def gain(grade: float, gains: Gains = "linear") -> float:
    if gains == "linear":
        return float(grade)
    if gains == "exponential":
        return 2.0 ** grade - 1.0
    raise ValueError(f"unknown gains {gains!r}")


def dcg(grades: Sequence[float], gains: Gains = "linear") -> float:
    """Sum of gain(grade) / log2(rank + 1) over ranks 1..len(grades)."""
    return sum(gain(g, gains) / math.log2(rank + 1) for rank, g in enumerate(grades, start=1))


def ndcg_at(ranked: Sequence[str], judged: Mapping[str, float], k: int = 10, gains: Gains = "linear") -> float:
    ideal = dcg(sorted(judged.values(), reverse=True)[:k], gains)
    if ideal <= 0:
        return 0.0
    return dcg([judged.get(sku, 0) for sku in ranked[:k]], gains) / ideal


def relevant(judged: Mapping[str, float]) -> set[str]:
    return {sku for sku, grade in judged.items() if grade >= RELEVANT_GRADE}


def has_relevant(judged: Mapping[str, float]) -> bool:
    return any(grade >= RELEVANT_GRADE for grade in judged.values())


def judged_queries(qids: Iterable[str], qrels: Mapping[str, Mapping[str, float]]) -> list[str]:
    """The queries (in order) with at least one relevant judgment: the ones every mean is taken over."""
    return [qid for qid in qids if has_relevant(qrels.get(qid, {}))]


def mean_metrics(per_query: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """Mean of each ``query_metrics`` key over the queries (0.0 for none)."""
    n = len(per_query)
    return {k: (sum(m[k] for m in per_query.values()) / n if n else 0.0) for k in ("ndcg@10", "recall@100", "mrr@10")}


def recall_at(ranked: Sequence[str], judged: Mapping[str, float], k: int = 100) -> float:
    rel = relevant(judged)
    if not rel:
        return 0.0
    return len(rel.intersection(ranked[:k])) / len(rel)


def mrr_at(ranked: Sequence[str], judged: Mapping[str, float], k: int = 10) -> float:
    for rank, sku in enumerate(ranked[:k], start=1):
        if judged.get(sku, 0) >= RELEVANT_GRADE:
            return 1.0 / rank
    return 0.0


def query_metrics(ranked: Sequence[str], judged: Mapping[str, float], gains: Gains = "linear") -> dict[str, float]:
    """The three metrics of one query, keyed as in reports: ``ndcg@10``, ``recall@100``, ``mrr@10``."""
    return {"ndcg@10": ndcg_at(ranked, judged, 10, gains), "recall@100": recall_at(ranked, judged, 100),
            "mrr@10": mrr_at(ranked, judged, 10)}


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100); 0.0 for no values."""
    if not values:
        return 0.0
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)
