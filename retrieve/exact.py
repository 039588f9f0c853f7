"""Exact dense scoring in numpy for the searcher's exact path (a selective filter: every match scored, no ANN)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from catalog_search.core.store import Ranked


def cosine_ranked(query: np.ndarray, skus: Sequence[str], vectors: np.ndarray) -> Ranked:
    """``(sku, cosine)`` for every row, best first (ties by sku); zero vectors score 0."""
    if not len(skus):
        return []
    q = np.asarray(query, dtype=np.float64).reshape(-1)
    m = np.asarray(vectors, dtype=np.float64).reshape(len(skus), -1)
    norms = np.linalg.norm(m, axis=1) * (np.linalg.norm(q) or 1.0)
    scores = np.divide(m @ q, norms, out=np.zeros(len(skus)), where=norms > 0)
    order = sorted(range(len(skus)), key=lambda i: (-scores[i], skus[i]))
    return [(skus[i], float(scores[i])) for i in order]
