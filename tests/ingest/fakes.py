"""Fakes for pure unit tests and fault injection only. Every path they stand in for also runs against the real part
(Milvus Lite, a Kafka-protocol broker, vLLM) in the integration tests."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from catalog_search.core.errors import EmbeddingError, InputTooLongError
from tests.support.memory_store import MemoryStore


class ScriptedEmbedder:
    """Deterministic vectors from a seeded RNG per text; can refuse given texts or fail the next N calls."""

    model_id = "scripted"
    dim = 8

    def __init__(self, *, refuse: Sequence[str] = (), transient_failures: int = 0) -> None:
        self.refuse = set(refuse)
        self.transient_failures = transient_failures
        self.calls: list[list[str]] = []
        self.closed = False

    def embed_documents(self, texts):
        self.calls.append(list(texts))
        if self.transient_failures:
            self.transient_failures -= 1
            raise EmbeddingError("503 from server", retriable=True)
        for i, text in enumerate(texts):
            if any(r in text for r in self.refuse):
                raise InputTooLongError("input is longer than the model's 32 tokens", index=i)
        rows = [np.random.default_rng(abs(hash(t)) % 2**32).normal(size=self.dim) for t in texts]
        return np.array([r / np.linalg.norm(r) for r in rows], dtype=np.float32)

    embed_queries = embed_documents

    def close(self):
        self.closed = True


class RowsStore(MemoryStore):
    """The in-memory store with its collection created, any vector size accepted; ``transient_failures`` fails the
    next N upserts (retriable), ``upserts`` counts the successful ones, ``rows`` holds the products by sku."""

    def __init__(self, *, transient_failures: int = 0) -> None:
        super().__init__(transient_failures=transient_failures)
        self.ensure_collection()
