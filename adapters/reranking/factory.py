"""Pick the reranker named by ``settings.rerank.backend``."""

from __future__ import annotations

from catalog_search.core.errors import ConfigError
from catalog_search.core.rerank import Reranker
from catalog_search.core.settings import Settings


def make_reranker(settings: Settings) -> Reranker | None:
    """The configured reranker; ``none`` -> None. Backends are imported on use (the local one needs torch)."""
    backend = settings.rerank.backend
    if backend == "none":
        return None
    if backend == "vllm":
        from catalog_search.adapters.reranking.vllm import VLLMReranker
        return VLLMReranker.from_settings(settings)
    if backend == "local":
        from catalog_search.adapters.reranking.local import LocalReranker
        return LocalReranker.from_settings(settings)
    raise ConfigError(f"CATALOG_RERANK_BACKEND: unknown backend {backend!r} (none, vllm or local)")
