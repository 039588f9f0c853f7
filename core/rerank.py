"""The one protocol every reranker implements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable


@runtime_checkable
class Reranker(Protocol):
    """Scores (query, document) pairs; higher is more relevant. For Qwen3-Reranker the score is P("yes").

    ``rerank`` returns one score per document, in input order, or raises ``catalog.errors.RerankError``
    (``retriable`` set) — including when ``timeout_s`` (the time left of the caller's deadline) runs out.
    """

    @property
    def model_id(self) -> str: ...

    def rerank(self, query: str, documents: Sequence[str], *, instruction: str | None = None,
               timeout_s: float | None = None) -> list[float]: ...

    def close(self) -> None: ...
