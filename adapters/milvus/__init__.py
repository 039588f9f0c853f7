"""Vector stores: the ``VectorStore`` protocol and the Milvus adapter."""

from catalog_search.core.store import StoreCounts, VectorStore

__all__ = ["StoreCounts", "VectorStore"]
