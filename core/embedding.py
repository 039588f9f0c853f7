"""The one protocol every embedding backend implements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of ``dim`` dimensions.

    Documents are embedded as they are; queries get the model's query instruction (Qwen3:
    ``Instruct: {task}\\nQuery:{query}``), which the backend applies itself. Results keep input order.
    Errors are raised as ``catalog.errors.EmbeddingError`` (``retriable`` set); backends never retry themselves.
    ``timeout_s``: the most this call may take (a search's share of its caller's deadline; a timeout is a
    retriable ``EmbeddingError``); None = the backend's own timeout. In-process backends may ignore it.
    """

    @property
    def model_id(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def embed_documents(self, texts: Sequence[str], *, timeout_s: float | None = None) -> np.ndarray:
        """Return an array of shape (len(texts), dim), dtype float32, rows of unit norm."""
        ...

    def embed_queries(self, texts: Sequence[str], *, timeout_s: float | None = None) -> np.ndarray:
        """Like ``embed_documents`` but with the query instruction applied."""
        ...

    def close(self) -> None: ...
