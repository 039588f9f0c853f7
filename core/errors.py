"""Error hierarchy shared by every adapter.

Adapters map third-party exceptions exactly once (``raise ... from exc``) into these classes and say whether the
operation may succeed if repeated. Retrying is decided by one layer only: ``ingest.retry``.
"""

from __future__ import annotations


class CatalogError(Exception):
    """Base class of every error this project raises on purpose."""


class ConfigError(CatalogError):
    """Settings or command-line arguments are invalid; the message says which one and why."""


class BackendError(CatalogError):
    """An external system (embedding server, Milvus, Kafka) failed.

    ``retriable`` is True for faults that may pass on their own (timeouts, connection refused, HTTP 429/5xx,
    Milvus "not ready"), False for faults that repeat forever (bad request, schema mismatch).
    """

    def __init__(self, message: str, *, retriable: bool) -> None:
        super().__init__(message)
        self.retriable = retriable


class EmbeddingError(BackendError):
    """The embedding backend failed."""


class InputTooLongError(EmbeddingError):
    """One input is longer than the model accepts even after client-side truncation (never retriable)."""

    def __init__(self, message: str, *, index: int | None = None) -> None:
        super().__init__(message, retriable=False)
        self.index = index


class RerankError(BackendError):
    """The reranker failed or ran out of time (retrieval degrades to the fused order)."""


class RerankTimeoutError(RerankError):
    """The reranker did not answer within the time it was given (always retriable)."""

    def __init__(self, message: str, *, timeout_s: float | None = None) -> None:
        super().__init__(message, retriable=True)
        self.timeout_s = timeout_s


class StoreError(BackendError):
    """The vector store (Milvus) failed."""


class NoTimeLeftError(StoreError):
    """A store call was not made: the caller's deadline left no time for it (retriable; nothing is down)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retriable=True)


class BrokerError(BackendError):
    """The Kafka-protocol broker failed."""
