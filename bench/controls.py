"""Benchmark controls, never product code: stand-ins that take one cost out of a measurement, labelled as such.

``SyntheticEmbedder`` is the "zero-cost embedder" control: a deterministic unit vector per text (seeded by a hash of
the text), so a benchmark can time everything around the model (Kafka, validation, planning, Milvus, gRPC) or load a
50,000-product catalog in seconds. Its vectors carry no meaning: results measured with it are latency/throughput
figures only, never relevance. Same text -> same vector, so a raw Milvus call and the service given the same query
text search with the same query vector.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np


class SyntheticEmbedder:
    """Zero-cost embedder control (see the module docstring); ``calls``/``texts`` count what it was asked."""

    def __init__(self, dim: int = 1024, model_id: str = "synthetic-control") -> None:
        self.dim, self.model_id = dim, model_id
        self.calls = self.texts = 0

    def _vector(self, text: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")
        v = np.random.default_rng(seed).standard_normal(self.dim, dtype=np.float32)
        return v / np.linalg.norm(v)

    def embed_documents(self, texts: Sequence[str], *, timeout_s: float | None = None) -> np.ndarray:
        self.calls += 1
        self.texts += len(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._vector(t) for t in texts])

    def embed_queries(self, texts: Sequence[str], *, timeout_s: float | None = None) -> np.ndarray:
        return self.embed_documents(texts)

    def close(self) -> None:
        pass
