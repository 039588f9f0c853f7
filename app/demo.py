"""``make demo``: the embedded local stack end to end on a laptop — no Docker, no GPU, no internet.

Starts a Kafka-compatible broker (Tansu) and a Milvus Lite server, publishes the bundled sample catalog, runs the
ingest worker until it is caught up, then publishes a change stream (price/stock patches, re-titles, deletes, a
stale event) and ingests that too, and prints what landed. Then it starts the retrieval gRPC server and runs a few
searches through the typed client: a Chinese query, an English query, a filtered one (price + category) and a grouped
one with facets and a next page (colour variants of one listing shown as one hit). It ends by printing how to get the
web page; with ``ui=(host, port)`` (``catalog-search demo --ui``) it serves the page and the HTTP API over that
server and keeps everything running until SIGTERM/Ctrl-C.
"""

from __future__ import annotations

import shutil
import time
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from catalog_search.app.commands import COUNTER_KEYS, describe, publish_file, run_kafka_worker
from catalog_search.app.localstack.stack import TANSU_SESSION_TIMEOUT_MS
from catalog_search.app.localstack import LocalStack, free_port, port_is_free
from catalog_search.app.tables import landed_table
from catalog_search.core.errors import ConfigError
from catalog_search.core.settings import Settings
from catalog_search.adapters.milvus.store import MilvusStore

if TYPE_CHECKING:
    from catalog_search.retrieve.client import SearchClient
    from catalog_search.retrieve.tokens import TokenTable

IDLE_S = 3.0
UI_PORT = 7860
DEMO_RESULT_DEPTH = 30


def sample_file(name: str) -> Path:
    return Path(str(resources.files("catalog_search.app") / "data" / name))


def run_demo(settings: Settings, data_dir: Path, *, ui: tuple[str, int] | None = None) -> int:
    if ui is not None and ui[1] and not port_is_free(ui[1], ui[0]):
        raise ConfigError(f"cannot serve the web page on {ui[0]}:{ui[1]}: the port is in use (choose one with --port)")
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    print(f"starting the embedded stack in {data_dir} (Tansu Kafka-compatible broker + Milvus Lite server)")
    with LocalStack(data_dir, kafka_port=free_port(), milvus_port=free_port()) as stack:
        # The sample catalog is half Chinese: BM25 needs jieba unless CATALOG_BM25_ANALYZER says otherwise.
        analyzer = settings.milvus.bm25_analyzer if "bm25_analyzer" in settings.milvus.model_fields_set else "multilingual"
        settings = settings.replace(**dict(
            kafka_bootstrap=stack.kafka.bootstrap, milvus_uri=stack.milvus.uri, bm25_analyzer=analyzer,
            kafka_session_timeout_ms=TANSU_SESSION_TIMEOUT_MS, kafka_max_poll_interval_ms=10_000))
        print(f"  broker {stack.kafka.bootstrap}, milvus {stack.milvus.uri}, embedder {settings.embed.backend} "
              f"({settings.embed.vector_dim}-d), BM25 analyzer {analyzer}\n")
        for title, name in (("sample catalog", "sample_catalog.jsonl"), ("change stream", "sample_changes.jsonl")):
            count = publish_file(settings, sample_file(name), settings.kafka.topic)
            print(f"published the {title}: {count} events -> {settings.kafka.topic}")
            started = time.monotonic()
            counters = run_kafka_worker(settings, until_idle_s=IDLE_S)
            seconds = time.monotonic() - started - IDLE_S
            print("  ingested: " + ", ".join(f"{k}={counters[k]}" for k in COUNTER_KEYS)
                  + f" (~{max(seconds, 0):.1f}s incl. group join)\n")
        _print_landed(settings)
        # a result set of 200 would be most of this 318-product catalog: size it to the catalog (README, result depth)
        depth = settings.search.result_depth if "result_depth" in settings.search.model_fields_set else DEMO_RESULT_DEPTH
        _search_demo(settings.replace(**dict(grpc_address=f"127.0.0.1:{free_port()}", search_result_depth=depth)),
                     ui=ui)
    if ui is None:
        print(f"\nweb page (search, compare, rerank playground) + HTTP API: run `make demo-ui` (= catalog-search demo "
              f"--ui) and open http://127.0.0.1:{UI_PORT}/\n  it runs this demo again and keeps the stack, the retrieval "
              "service and the page running until Ctrl-C; in front of a running service: catalog-search ui")
    return 0


DEMO_SEARCHES = (
    ("无线降噪耳机", {}),
    ("running shoes for men", {}),
    ("kitchen appliance", {"price_max": 150.0, "categories": ["Home & Kitchen"]}),
    # one tile per listing (colour variants folded), facet counts beside it and a next page
    ("wireless noise cancelling headphones", {"locale": "en-US", "group_by": "group_id",
                                               "facets": ["brand", "price"], "page_size": 5, "candidates": 30}),
)


def _search_demo(settings: Settings, *, ui: tuple[str, int] | None = None) -> None:
    from catalog_search.app.search_wiring import start_search_server
    from catalog_search.app.tables import search_table
    from catalog_search.retrieve.client import SearchClient
    from catalog_search.retrieve.tokens import load_tokens

    server = start_search_server(settings)
    print(f"\nretrieval gRPC server on {settings.grpc.address} (rerank backend: {settings.rerank.backend}"
          + (", set CATALOG_RERANK_BACKEND=vllm|local to rerank)" if settings.rerank.backend == "none" else ")"))
    try:
        with SearchClient.from_settings(settings.grpc, timeout_s=10.0) as client:
            for query, filters in DEMO_SEARCHES:
                shown = ", ".join(f"{k}={v}" for k, v in filters.items())
                print(f"\n$ catalog-search search {query!r}" + (f"  [{shown}]" if shown else ""))
                response = client.search(query, top_k=5, **filters)
                print(search_table(response))
            if ui is not None:
                _serve_ui(client, *ui, tokens=load_tokens(settings.grpc))
    finally:
        server.stop()


def _serve_ui(client: SearchClient, host: str, port: int, *, tokens: TokenTable | None = None) -> None:
    from catalog_search.app.web.api import create_app
    from catalog_search.app.web.server import WebServer

    def ready(web: WebServer) -> None:
        print(f"\nweb page: {web.url}  (HTTP API: {web.url}v1/search, {web.url}v1/rerank, schema "
              f"{web.url}openapi.json)\nthe stack, the retrieval service and the page run until Ctrl-C", flush=True)
        if tokens is not None:
            print(f"the API needs a bearer token: open the page as {web.url}#token=<CATALOG_GRPC_API_KEY>", flush=True)

    WebServer(create_app(client, tokens=tokens), host, port).run_until_signal(ready)


def _print_landed(settings: Settings) -> None:
    store = MilvusStore.from_settings(settings)
    try:
        counts = store.counts()
        print(f"Milvus collection {settings.milvus.collection} (alias {settings.milvus.alias}): "
              f"{counts.live} live products, {counts.tombstoned} tombstones")
        changed = _changed_skus(sample_file("sample_changes.jsonl"))
        rows = store.fetch(changed[:6])
        print("a few products after the change stream:")
        print(landed_table({sku: describe(rows[sku]) if sku in rows else None for sku in changed[:6]}))
    finally:
        store.close()


def _changed_skus(path: Path) -> list[str]:
    import json

    seen: dict[str, None] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            seen.setdefault(json.loads(line)["sku"], None)
    return list(seen)
