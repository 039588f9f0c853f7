"""The rerank stage of retrieval: a deadline- and circuit-breaker-aware call of a ``Reranker`` (core Protocol) that
degrades to the fused order instead of failing. The backends (vLLM /v1/rerank, a local transformers checkpoint) are
adapters: ``catalog_search.adapters.reranking``."""

from catalog_search.rerank.breaker import CircuitBreaker
from catalog_search.rerank.stage import RerankOutcome, RerankStage, make_rerank_stage

__all__ = ["CircuitBreaker", "RerankOutcome", "RerankStage", "make_rerank_stage"]
