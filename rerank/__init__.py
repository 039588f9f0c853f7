"""Reranking for retrieval: Qwen3-Reranker through vLLM's /v1/rerank or a local transformers checkpoint, wrapped
in a deadline- and circuit-breaker-aware stage that degrades to the fused order instead of failing.

``LocalReranker`` (torch) and ``VLLMReranker`` (httpx) are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from catalog_search.core.rerank import Reranker
from catalog_search.rerank.breaker import CircuitBreaker
from catalog_search.adapters.reranking.qwen3 import format_document, format_query, full_prompt
from catalog_search.rerank.stage import RerankOutcome, RerankStage, RerankTimeoutError, make_rerank_stage, make_reranker

if TYPE_CHECKING:
    from catalog_search.adapters.reranking.local import LocalReranker
    from catalog_search.adapters.reranking.vllm import VLLMReranker

__all__ = [
    "CircuitBreaker",
    "LocalReranker",
    "RerankOutcome",
    "RerankStage",
    "RerankTimeoutError",
    "Reranker",
    "VLLMReranker",
    "format_document",
    "format_query",
    "full_prompt",
    "make_rerank_stage",
    "make_reranker",
]


def __getattr__(name: str) -> Any:
    if name == "VLLMReranker":
        from catalog_search.adapters.reranking.vllm import VLLMReranker
        return VLLMReranker
    if name == "LocalReranker":
        from catalog_search.adapters.reranking.local import LocalReranker
        return LocalReranker
    raise AttributeError(f"module 'rerank' has no attribute {name!r}")
