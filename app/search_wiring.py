"""Build the production ``Searcher`` from settings (embedder, Milvus store, query cache, rerank stage, speller, query
log) and serve it."""

from __future__ import annotations

import logging
import threading

from catalog_search.adapters.embedding.factory import make_embedder
from catalog_search.adapters.kafka import make_querylog_sink
from catalog_search.adapters.milvus.store import MilvusStore
from catalog_search.adapters.reranking.factory import make_reranker
from catalog_search.core.cache import TTLCache
from catalog_search.core.settings import Settings
from catalog_search.rerank.stage import make_rerank_stage
from catalog_search.retrieve.metrics import SearchMetrics
from catalog_search.retrieve.paging import PageTokens
from catalog_search.retrieve.querylog import AsyncQueryLog
from catalog_search.retrieve.searcher import Searcher
from catalog_search.retrieve.server import SearchServer, start
from catalog_search.retrieve.spelling import Speller

log = logging.getLogger(__name__)


def make_searcher(settings: Settings, *, metrics: SearchMetrics | None = None) -> Searcher:
    """Nothing connects here: the store and the models are opened lazily by the first search, the spelling
    vocabulary by the first search that asks for correction, the query-log producer by its background thread."""
    search, spell = settings.search, settings.spell
    store = MilvusStore.from_settings(settings)
    embedder = make_embedder(settings)
    cache = TTLCache(search.query_cache_size, search.query_cache_ttl_s) if search.query_cache_size else None
    if metrics is not None and cache is not None:
        metrics.track_cache(cache)
    speller = Speller(store, refresh_s=spell.refresh_s, max_edit=spell.max_edit, min_length=spell.min_length)
    query_log = None
    if settings.querylog.enabled:
        query_log = AsyncQueryLog(lambda: make_querylog_sink(settings), queue_size=settings.querylog.queue_size,
                                  counters=metrics or SearchMetrics())
    return Searcher(store, embedder, make_rerank_stage(settings.rerank, make_reranker(settings)),
                    candidates=search.candidates, fusion=search.fusion, alpha=search.alpha,
                    exact_threshold=search.exact_threshold, cache=cache,
                    query_instruction=settings.embed.query_instruction, query_template=settings.embed.query_template,
                    result_depth=search.result_depth,
                    page_tokens=PageTokens(search.page_token_secret.get_secret_value()),
                    speller=speller, spell_default=spell.enabled, query_log=query_log, observer=metrics,
                    tenant=search.tenant, embed_reserve_s=search.embed_reserve_ms / 1000.0,
                    deadline_margin_s=search.deadline_margin_ms / 1000.0)


def warm_spelling(searcher: Searcher) -> None:
    """Start building the spelling vocabulary now (background), so the first searches are already corrected."""
    def warm() -> None:
        try:
            if searcher.speller is not None:
                searcher.speller.vocabulary(searcher.collection())
        except Exception as exc:  # noqa: BLE001 - the first search tries again
            log.info("spelling vocabulary not prepared at start: %s", exc)

    threading.Thread(target=warm, name="spell-warm", daemon=True).start()


def serving_searcher(settings: Settings) -> Searcher:
    """The server's searcher: its metrics served on ``CATALOG_GRPC_METRICS_PORT`` (when set), the vocabulary
    prepared in the background when correction is on by default."""
    metrics = SearchMetrics()
    if settings.grpc.metrics_port:
        metrics.serve(settings.grpc.metrics_port)
    searcher = make_searcher(settings, metrics=metrics)
    if settings.spell.enabled:
        warm_spelling(searcher)
    return searcher


def start_search_server(settings: Settings, *, address: str | None = None) -> SearchServer:
    """The gRPC server over a searcher built from ``settings`` (closed when the server stops)."""
    return start(settings, serving_searcher(settings), address=address, owns_searcher=True)
