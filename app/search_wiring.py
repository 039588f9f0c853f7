"""Build the production ``Searcher`` from settings (embedder, Milvus store, query cache, rerank stage) and serve it."""

from __future__ import annotations

from catalog_search.adapters.embedding.factory import make_embedder
from catalog_search.adapters.milvus.store import MilvusStore
from catalog_search.adapters.reranking.factory import make_reranker
from catalog_search.core.cache import TTLCache
from catalog_search.core.settings import Settings
from catalog_search.rerank.stage import make_rerank_stage
from catalog_search.retrieve.paging import PageTokens
from catalog_search.retrieve.searcher import Searcher
from catalog_search.retrieve.server import SearchServer, start


def make_searcher(settings: Settings) -> Searcher:
    """Nothing connects here: the store and the models are opened lazily by the first search."""
    search = settings.search
    store = MilvusStore.from_settings(settings)
    embedder = make_embedder(settings)
    cache = TTLCache(search.query_cache_size, search.query_cache_ttl_s) if search.query_cache_size else None
    return Searcher(store, embedder, make_rerank_stage(settings.rerank, make_reranker(settings)),
                    candidates=search.candidates, fusion=search.fusion, alpha=search.alpha,
                    exact_threshold=search.exact_threshold, cache=cache,
                    query_instruction=settings.embed.query_instruction, query_template=settings.embed.query_template,
                    result_depth=search.result_depth,
                    page_tokens=PageTokens(search.page_token_secret.get_secret_value()))


def start_search_server(settings: Settings, *, address: str | None = None) -> SearchServer:
    """The gRPC server over a searcher built from ``settings`` (closed when the server stops)."""
    return start(settings, make_searcher(settings), address=address, owns_searcher=True)
