"""Vector stores: the ``VectorStore`` protocol and the Milvus adapter."""

from catalog.store.base import StoreCounts, VectorStore

__all__ = ["StoreCounts", "VectorStore"]
