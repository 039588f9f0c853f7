"""The evaluation collection: a judged product set ingested through the real ingest code into its own collection.

The products go through ``ingest.backfill`` (same validation, diff, embedding and upsert as production) into a
separate collection named from model + dim + corpus hash + BM25 signature (``evaluate.naming``) with its own alias;
a collection that already holds every sku of the corpus is reused as is.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from catalog_search.adapters.embedding.factory import make_embedder
from catalog_search.adapters.milvus.store import MilvusStore
from catalog_search.app.ingest_wiring import make_batcher, make_processor
from catalog_search.app.search_wiring import make_searcher
from catalog_search.core.settings import Settings
from catalog_search.adapters.milvus.schema import text_index_signature
from catalog_search.evaluate.naming import collection_name
from catalog_search.ingest.backfill import FileDeadLetterSink, backfill
from catalog_search.retrieve.searcher import Searcher

log = logging.getLogger(__name__)


def eval_collection(model_id: str, dim: int, products: Path, bm25_analyzer: str) -> str:
    """The evaluation collection of ``products`` for this embedding model and BM25 analyzer (with the BM25 params)."""
    return collection_name(model_id, dim, products, text_index_signature(bm25_analyzer))


@dataclass(frozen=True)
class Prepared:
    settings: Settings          # settings pointing at the evaluation collection and alias
    collection: str
    products: int
    reused: bool
    ingest_seconds: float


def eval_settings(settings: Settings, collection: str) -> Settings:
    return settings.replace(**{"milvus_collection": collection, "milvus_alias": f"{collection}_a",
                                       "query_cache_size": 0})


def prepare_collection(settings: Settings, products: Path, skus: Sequence[str], *, rejects: Path,
                       progress: bool = True) -> Prepared:
    """Build (or reuse) the evaluation collection for ``products`` with the configured embedder."""

    embedder = make_embedder(settings)
    name = eval_collection(embedder.model_id, embedder.dim, products, settings.milvus.bm25_analyzer)
    close = getattr(embedder, "close", None)
    if callable(close):
        close()
    s = eval_settings(settings, name)
    store = MilvusStore.from_settings(s)
    try:
        store.ensure_collection()
        live = store.counts().live
        if live == len(skus) and len(store.fetch([skus[0], skus[-1]])) == 2:
            log.info("reusing %s (%d products)", name, live)
            return Prepared(s, name, live, True, 0.0)
        started = time.monotonic()
        sink = FileDeadLetterSink(rejects)
        with make_processor(s, sink, store=store) as processor:
            backfill(products, processor, make_batcher(s), progress=progress)
        live = store.counts().live
        if sink.count:
            log.warning("%d product line(s) rejected by ingest, reasons in %s", sink.count, rejects)
        return Prepared(s, name, live, False, time.monotonic() - started)
    finally:
        store.close()


@contextlib.contextmanager
def eval_searcher(settings: Settings, *, spelling: bool = False) -> Iterator[Searcher]:
    """The production searcher with its query-embedding cache and the query log off (every config pays for its own
    embedding; evaluations are no traffic). ``spelling``: the vocabulary of the collection is built first, so every
    query is corrected against the same one."""
    searcher = make_searcher(settings.replace(query_cache_size=0, querylog_enabled=False))
    try:
        if spelling and searcher.speller is not None:
            searcher.speller.build(searcher.collection())
        yield searcher
    finally:
        searcher.close()
