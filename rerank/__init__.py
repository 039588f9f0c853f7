"""Reranking for retrieval: Qwen3-Reranker through vLLM's /v1/rerank or a local transformers checkpoint, wrapped
in a deadline- and circuit-breaker-aware stage that degrades to the fused order instead of failing.

``LocalReranker`` (torch) and ``VLLMReranker`` (httpx) are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rerank.base import Reranker
from rerank.breaker import CircuitBreaker
from rerank.prompt import format_document, format_query, full_prompt
from rerank.stage import RerankOutcome, RerankStage, RerankTimeoutError, make_rerank_stage, make_reranker

if TYPE_CHECKING:
    from rerank.local import LocalReranker
    from rerank.vllm import VLLMReranker

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
        from rerank.vllm import VLLMReranker
        return VLLMReranker
    if name == "LocalReranker":
        from rerank.local import LocalReranker
        return LocalReranker
    raise AttributeError(f"module 'rerank' has no attribute {name!r}")
