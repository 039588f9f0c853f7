"""Validation of an OpenAI-style ``/embeddings`` response into an L2-normalised float32 matrix.

Anything malformed (not JSON, no ``data`` list, wrong count, bad or duplicate ``index``, wrong dimension,
non-numeric or zero/non-finite vectors) is a non-retriable ``EmbeddingError``: the same request would fail again.
"""

from __future__ import annotations

import math

import httpx
import numpy as np

from catalog_search.core.errors import EmbeddingError


def parse_embeddings(response: httpx.Response, expected: int, dim: int) -> np.ndarray:
    """``expected`` rows of ``dim`` floats in input order (by each item's ``index``), each scaled to unit norm."""
    try:
        body = response.json()
    except ValueError as exc:       # JSONDecodeError, UnicodeDecodeError
        raise EmbeddingError(f"embedding server returned non-JSON (HTTP {response.status_code}): "
                             f"{response.text[:200]!r}", retriable=False) from exc
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        raise EmbeddingError(f"malformed embedding response: no 'data' list in {str(body)[:200]}", retriable=False)
    if len(data) != expected:
        raise EmbeddingError(f"malformed embedding response: {len(data)} embeddings for {expected} inputs",
                             retriable=False)
    out = np.empty((expected, dim), dtype=np.float32)
    seen = [False] * expected
    for pos, item in enumerate(data):
        if not isinstance(item, dict):
            raise EmbeddingError(f"malformed embedding response: item {pos} is not an object", retriable=False)
        idx = item.get("index", pos)
        if not isinstance(idx, int) or isinstance(idx, bool) or not 0 <= idx < expected or seen[idx]:
            raise EmbeddingError(f"malformed embedding response: bad or duplicate index {idx!r}", retriable=False)
        vec = item.get("embedding")
        if not isinstance(vec, list):
            raise EmbeddingError(f"malformed embedding response: item {idx} has no float list 'embedding' "
                                 "(base64 answer to encoding_format=float?)", retriable=False)
        if len(vec) != dim:
            raise EmbeddingError(f"embedding dimension mismatch: got {len(vec)}, expected {dim} "
                                 "(does the server honour 'dimensions' / is the model Matryoshka?)", retriable=False)
        try:
            row = np.asarray(vec, dtype=np.float32)
        except (TypeError, ValueError) as exc:
            raise EmbeddingError(f"malformed embedding response: item {idx} is not numeric",
                                 retriable=False) from exc
        norm = float(np.linalg.norm(row))
        if not math.isfinite(norm) or norm == 0.0:
            raise EmbeddingError(f"malformed embedding response: item {idx} has norm {norm}", retriable=False)
        out[idx] = row / norm
        seen[idx] = True
    return out
