"""Build the production ``Searcher`` from settings (embedder, Milvus store, query cache, rerank stage)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from catalog_search.adapters.embedding.factory import make_embedder
from catalog_search.adapters.milvus.store import MilvusStore
from catalog_search.rerank.stage import make_rerank_stage
from catalog_search.core.cache import TTLCache
from catalog_search.retrieve.searcher import Searcher

if TYPE_CHECKING:
    from catalog_search.core.settings import Settings


def make_searcher(settings: Settings) -> Searcher:
    """Nothing connects here: the store and the models are opened lazily by the first search."""
    store = MilvusStore.from_settings(settings)
    embedder = make_embedder(settings)
    search = settings.search
    cache = TTLCache(search.query_cache_size, search.query_cache_ttl_s) if search.query_cache_size else None
    return Searcher(store, embedder, make_rerank_stage(settings), candidates=settings.search.candidates,
                    fusion=settings.search.fusion, alpha=settings.search.alpha,
                    exact_threshold=settings.search.exact_threshold, cache=cache,
                    query_instruction=settings.embed.query_instruction, query_template=settings.embed.query_template)
