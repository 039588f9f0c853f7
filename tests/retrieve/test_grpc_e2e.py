"""End to end over real gRPC: a real server on a free port, the real searcher (``retrieve.app.make_searcher``) on a
Milvus Lite server holding the sample catalog (plus its change stream: patches and tombstones), reached through
``SearchClient`` and the ``catalog-search search`` CLI.

Ground truth comes from the store itself (``MilvusStore.fetch`` of every sku after ingestion), so the filter checks
hold whatever the ranking does.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import grpc
import pytest

from catalog_search.adapters.embedding.local import LocalEmbedder
from catalog_search.core.events import event_from_dict
from catalog_search.app.localstack import free_port
from catalog_search.core.product import Product
from catalog_search.core.settings import Settings, load_settings
from catalog_search.adapters.milvus.store import MilvusStore
from catalog_search.ingest.pipeline import Pipeline
from catalog_search.retrieve.client import InvalidSearch, SearchClient, SearchError, SearchUnavailable
from catalog_search.retrieve.domain import CategoryFilter, SearchResponse
from catalog_search.retrieve.servicer import SERVICE_NAME
from tests.support.stack import drop_catalog

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "app" / "data"
TIMEOUT_S = 10.0          # generous per-call deadline: 2 cores, Milvus Lite, the local embedder


# ------------------------------------------------------------------------------------------------------- fixtures

def _events(name: str) -> list[Any]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [event_from_dict(json.loads(line)) for line in lines if line.strip()]


@pytest.fixture(scope="module")
def catalog(milvus_server: Any) -> Iterator[tuple[Settings, dict[str, Product]]]:
    """Sample catalog + change stream ingested into a fresh collection; yields (settings, every stored row)."""
    suffix = uuid.uuid4().hex[:10]
    settings = load_settings(milvus_uri=milvus_server.uri, milvus_collection=f"e2e_{suffix}",
                             milvus_alias=f"e2e_a_{suffix}", grpc_address=f"127.0.0.1:{free_port()}",
                             embed_backend="local", rerank_backend="none", milvus_timeout_s=10.0)
    store = MilvusStore.from_settings(settings)
    store.ensure_collection()
    embedder = LocalEmbedder()
    pipeline = Pipeline(embedder, store)
    skus: set[str] = set()
    for name in ("sample_catalog.jsonl", "sample_changes.jsonl"):
        events = _events(name)
        skus.update(e.sku for e in events)
        for start in range(0, len(events), 64):     # batches, as the worker would
            pipeline.process(events[start:start + 64])
    rows = store.fetch(sorted(skus))
    assert sum(r.deleted for r in rows.values()) == 5          # the change stream's deletes are tombstones
    yield settings, rows
    try:
        drop_catalog(store)
    finally:
        embedder.close()


@pytest.fixture(scope="module")
def live(catalog: tuple[Settings, dict[str, Product]]) -> dict[str, Product]:
    return {sku: row for sku, row in catalog[1].items() if not row.deleted}


def _start(settings: Settings, **overrides: Any):
    from catalog_search.app.search_wiring import start_search_server
    address = f"127.0.0.1:{free_port()}"
    return start_search_server(settings.replace(**{"grpc_address": address, **overrides}), address=address)


@pytest.fixture(scope="module")
def server(catalog: tuple[Settings, dict[str, Product]]) -> Iterator[Any]:
    """The real server with the real searcher (no reranker configured)."""
    started = time.monotonic()
    handle = _start(catalog[0])
    handle.startup_s = time.monotonic() - started
    yield handle
    handle.stop(1.0)


@pytest.fixture
def client(server: Any) -> Iterator[SearchClient]:
    with SearchClient(server.address, timeout_s=TIMEOUT_S) as c:
        yield c


def skus(resp: SearchResponse) -> list[str]:
    return [h.sku for h in resp.hits]


# ---------------------------------------------------------------------------------------------- health, reflection

def test_health_is_serving_and_reflection_lists_the_service(server: Any) -> None:
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    with grpc.insecure_channel(server.address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for name in ("", SERVICE_NAME):
            status = health.Check(health_pb2.HealthCheckRequest(service=name), timeout=5).status
            assert status == health_pb2.HealthCheckResponse.SERVING
        with pytest.raises(grpc.RpcError) as info:
            health.Check(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=5)
        assert info.value.code() == grpc.StatusCode.NOT_FOUND

        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        requests = [reflection_pb2.ServerReflectionRequest(list_services=""),
                    reflection_pb2.ServerReflectionRequest(file_containing_symbol=SERVICE_NAME)]
        listed, files = list(stub.ServerReflectionInfo(iter(requests), timeout=5))
    names = {s.name for s in listed.list_services_response.service}
    assert {SERVICE_NAME, "grpc.health.v1.Health"} <= names
    assert files.file_descriptor_response.file_descriptor_proto     # grpcurl can describe it


# ------------------------------------------------------------------------------------------------------- searching

def test_plain_search_returns_domain_objects_with_stage_scores(client: SearchClient, live: dict) -> None:
    resp = client.search("black cotton t-shirt for men", top_k=5)
    assert 1 <= len(resp.hits) <= 5 and not resp.degraded
    assert all(h.sku in live for h in resp.hits)
    top = resp.hits[0]
    assert top.title == live[top.sku].title and top.price == pytest.approx(live[top.sku].price)
    assert any(h.scores.dense is not None for h in resp.hits)
    assert all(h.scores.rerank is None for h in resp.hits)        # no reranker configured
    assert [h.score for h in resp.hits] == sorted((h.score for h in resp.hits), reverse=True)
    assert resp.timings_ms and resp.models
    assert "T-Shirt" in top.title or "T恤" in top.title


def test_top_k_zero_means_the_default_and_100_is_the_maximum(client: SearchClient) -> None:
    assert len(client.search("shoes", top_k=0).hits) == 10
    assert len(client.search("shoes", top_k=100).hits) == 100
    with pytest.raises(InvalidSearch) as info:
        client.search("shoes", top_k=101)
    assert info.value.message.startswith("top_k")


@pytest.mark.parametrize("kind", ["brand", "category_prefix", "category_exact", "price", "in_stock", "locale",
                                  "tenant"])
def test_each_filter_kind_holds_for_every_hit(client: SearchClient, live: dict, kind: str) -> None:
    spec: dict[str, Any] = {
        "brand": dict(brands=["Uniqlo", "Converse"]),
        "category_prefix": dict(categories=["Apparel > Men"]),
        "category_exact": dict(categories=[CategoryFilter("Apparel > Men > T-Shirts", prefix=False)]),
        "price": dict(price_min=20.0, price_max=60.0),
        "in_stock": dict(in_stock_only=True),
        "locale": dict(locale="de-DE"),
        "tenant": dict(tenant="outlet"),
    }[kind]
    check = {
        "brand": lambda p: p.brand in ("Uniqlo", "Converse"),
        "category_prefix": lambda p: p.category == "Apparel > Men" or p.category.startswith("Apparel > Men > "),
        "category_exact": lambda p: p.category == "Apparel > Men > T-Shirts",
        "price": lambda p: 20.0 <= p.price <= 60.0,
        "in_stock": lambda p: p.in_stock,
        "locale": lambda p: p.locale == "de-DE",
        "tenant": lambda p: p.tenant == "outlet",
    }[kind]
    resp = client.search("men's clothing and shoes", top_k=100, **spec)
    expected = {sku for sku, p in live.items() if check(p)}
    assert resp.hits and {h.sku for h in resp.hits} <= expected
    for hit in resp.hits:                              # the hit itself reports the stored values
        row = live[hit.sku]
        assert (hit.brand, hit.category, hit.in_stock) == (row.brand, row.category, row.in_stock)
        assert hit.price == pytest.approx(row.price)
    if len(expected) <= 100:                           # a small filtered set is searched exhaustively
        assert {h.sku for h in resp.hits} == expected


def test_prefix_category_matches_the_subtree_not_a_sibling_with_the_same_prefix(client: SearchClient,
                                                                                  live: dict) -> None:
    resp = client.search("shoes", top_k=100, categories=["Apparel > Shoes"])
    cats = {h.category for h in resp.hits}
    assert cats and all(c.startswith("Apparel > Shoes > ") for c in cats) and len(cats) >= 2
    # "Apparel > Sho" is not a path prefix of "Apparel > Shoes > Boots": whole segments only
    partial = client.search("shoes", top_k=100, categories=["Apparel > Sho"])
    assert partial.hits == []
    # the Chinese tree is separate; any-of across both trees
    zh_root = next(p.category.split(" > ")[0] for p in live.values() if p.locale == "zh-CN")
    both = client.search("shoes", top_k=100, categories=["Apparel > Shoes", zh_root])
    assert {h.category.split(" > ")[0] for h in both.hits} == {"Apparel", zh_root}


def test_combined_filters(client: SearchClient, live: dict) -> None:
    resp = client.search("jacket", top_k=100, categories=["Apparel"], price_min=50.0, price_max=500.0,
                         in_stock_only=True, locale="en-US", tenant="default")
    expected = {sku for sku, p in live.items() if p.category.startswith("Apparel > ") and 50 <= p.price <= 500
                and p.in_stock and p.locale == "en-US" and p.tenant == "default"}
    assert resp.hits and {h.sku for h in resp.hits} == expected
    none = client.search("jacket", brands=["Uniqlo"], categories=["Electronics"])
    assert none.hits == []


def test_tombstones_are_never_returned(client: SearchClient, catalog: tuple) -> None:
    rows = catalog[1]
    deleted = [row for row in rows.values() if row.deleted]
    assert len(deleted) == 5
    for row in deleted:
        # search for the deleted product's own (last) title, unfiltered and filtered to its brand
        for kwargs in ({}, {"brands": [row.brand]} if row.brand else {}):
            resp = client.search(row.title or row.sku, top_k=100, **kwargs)
            assert row.sku not in skus(resp)


def test_patched_values_are_what_search_returns(client: SearchClient, live: dict) -> None:
    changes = [json.loads(line) for line in (DATA / "sample_changes.jsonl").read_text().splitlines() if line.strip()]
    patched = next(c for c in changes if c["op"] == "patch" and "price" in c and c["sku"] in live)
    row = live[patched["sku"]]
    resp = client.search(row.title, top_k=100, brands=[row.brand])
    hit = next(h for h in resp.hits if h.sku == row.sku)
    assert hit.price == pytest.approx(row.price) and hit.in_stock == row.in_stock


# ---------------------------------------------------------------------------------------------- invalid arguments

@pytest.mark.parametrize("kwargs, field", [
    (dict(top_k=101), "top_k"),
    (dict(price_min=100.0, price_max=10.0), "price"),
    (dict(price_min=-1.0), "price_min"),
    (dict(price_max=float("nan")), "price_max"),
    (dict(price_min=float("inf")), "price_min"),
    (dict(query=""), "query"),
    (dict(query="   \t\n "), "query"),
    (dict(query="x" * 100_000), "query"),
    (dict(query="shoes\x00"), "query"),
    (dict(brands=[""]), "brand"),
    (dict(categories=[""]), "categor"),
    (dict(categories=[" > "]), "categor"),
    (dict(brands=["b" * 10_000]), "brand"),
    (dict(candidates=100_000), "candidates"),
])
def test_invalid_arguments_name_the_field(client: SearchClient, kwargs: dict, field: str) -> None:
    kwargs = {"query": "shoes", **kwargs}
    with pytest.raises(InvalidSearch) as info:
        client.search(kwargs.pop("query"), **kwargs)
    assert info.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert field in info.value.message.split(":")[0], info.value.message


def test_undecodable_utf8_is_invalid_argument(server: Any) -> None:
    with grpc.insecure_channel(server.address) as channel:
        raw = channel.unary_unary(f"/{SERVICE_NAME}/Search", request_serializer=lambda b: b,
                                  response_deserializer=lambda b: b)
        for body in (b"\x0a\x02\xc3\x28",                       # query = invalid UTF-8
                     b"\x0a\x01q\x1a\x04\x12\x02\xff\xfe",      # filters.brands[0] = invalid UTF-8
                     b"\xff\xff\xff"):                          # not a protobuf at all
            with pytest.raises(grpc.RpcError) as info:
                raw(body, timeout=5)
            assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT


INJECTIONS = [
    '" or 1==1 or sku != "',
    "' or '1'=='1",
    'x") or (tenant != "',
    "\\\" || true || \\\"",
    'Uniqlo" || brand != "',
    "%", "*", "_", "a like \"%\"", "json_contains(attributes, 1)",
    "'; DROP COLLECTION catalog; --",
    "\u202eUniqlo", "Uniqlo\n", "${jndi:ldap://x}", "{{7*7}}", "\\u0022 or 1==1",
]


@pytest.mark.parametrize("payload", INJECTIONS)
def test_injection_in_filter_strings_returns_nothing_extra_and_never_internal(client: SearchClient, live: dict,
                                                                                payload: str) -> None:
    for kwargs in (dict(brands=[payload]), dict(categories=[payload]),
                   dict(categories=[CategoryFilter(payload, prefix=False)]), dict(locale=payload),
                   dict(tenant=payload)):
        try:
            resp = client.search("shoes", top_k=100, **kwargs)
        except InvalidSearch:
            continue                                      # rejecting the value is fine; INTERNAL is not
        # no stored product has any of these literal values, so a literal filter matches nothing
        assert resp.hits == [], (kwargs, skus(resp))


@pytest.mark.parametrize("payload", INJECTIONS)
def test_injection_in_query_and_instruction_keeps_filters_intact(client: SearchClient, live: dict,
                                                                 payload: str) -> None:
    for kwargs in (dict(query=payload), dict(query="shoes", instruction=payload)):
        try:
            resp = client.search(kwargs.pop("query"), top_k=100, brands=["Converse"], tenant="default", **kwargs)
        except InvalidSearch:
            continue
        assert all(live[h.sku].brand == "Converse" and live[h.sku].tenant == "default" for h in resp.hits)


# ------------------------------------------------------------------------------------------------------ unavailable

def test_unavailable_is_retried_a_bounded_number_of_times_then_clear() -> None:
    address = f"127.0.0.1:{free_port()}"                     # nothing listens here
    started = time.monotonic()
    with SearchClient(address, timeout_s=5.0, retries=2) as client, pytest.raises(SearchUnavailable) as info:
        client.search("shoes")
    assert info.value.attempts == 3 and address in info.value.message
    assert info.value.code == grpc.StatusCode.UNAVAILABLE
    assert time.monotonic() - started < 3.0                  # bounded: small backoff, no waiting for the deadline


def test_server_restart_is_ridden_out_by_the_retries(catalog: tuple) -> None:
    """A client created before the server is up still succeeds once it is (within its retries and deadline)."""
    from catalog_search.app.search_wiring import start_search_server
    address = f"127.0.0.1:{free_port()}"
    holder: list[Any] = []
    timer = threading.Timer(0.1, lambda: holder.append(start_search_server(catalog[0], address=address)))
    with SearchClient(address, timeout_s=TIMEOUT_S, retries=8) as client:
        timer.start()
        try:
            resp = client.search("shoes", top_k=3)
        finally:
            timer.join()
            for handle in holder:
                handle.stop(0)
    assert len(resp.hits) == 3


def test_a_deadline_too_short_for_anything_is_deadline_exceeded_not_a_hang(client: SearchClient) -> None:
    started = time.monotonic()
    with pytest.raises(SearchError) as info:
        client.search("shoes", timeout_s=0.001)
    assert info.value.code == grpc.StatusCode.DEADLINE_EXCEEDED and time.monotonic() - started < 1.0
    assert client.search("shoes", top_k=1).hits                      # the channel is still fine


# ------------------------------------------------------------------------------------------- degraded reranking

class _SlowReranker(BaseHTTPRequestHandler):
    """A fake /v1/rerank that answers correctly but only after ``delay_s``."""

    delay_s = 30.0

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        time.sleep(self.delay_s)
        docs = body.get("documents", [])
        payload = json.dumps({"results": [{"index": i, "relevance_score": 0.5} for i in range(len(docs))]})
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload.encode())
        except OSError:
            pass                                           # the client gave up long ago

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def slow_reranker() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _SlowReranker)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()
    httpd.server_close()


def test_reranker_down_degrades_with_a_reason_and_still_answers(catalog: tuple) -> None:
    handle = _start(catalog[0], rerank_backend="vllm", rerank_base_url=f"http://127.0.0.1:{free_port()}/v1")
    try:
        with SearchClient(handle.address, timeout_s=TIMEOUT_S) as client:
            resp = client.search("running shoes", top_k=5)
            off = client.search("running shoes", top_k=5, rerank=False)
        table = _cli("search", "running shoes", "--top-k", "3", "--address", handle.address, "--timeout", "10")
    finally:
        handle.stop(0)
    assert resp.degraded and "reranker unavailable" in resp.degraded_reason and len(resp.hits) == 5
    assert resp.models["reranker"] == catalog[0].rerank.model
    assert table.returncode == 0 and "DEGRADED: reranker unavailable" in table.stdout
    assert f"rerank: skipped ({catalog[0].rerank.model} did not run)" in table.stdout
    assert all(h.scores.rerank is None for h in resp.hits)
    assert skus(resp) == skus(off)                        # the fused order is kept
    assert not off.degraded                               # asked for no rerank: nothing is missing


def test_reranker_slower_than_the_deadline_degrades_instead_of_deadline_exceeded(catalog: tuple,
                                                                                 slow_reranker: str) -> None:
    handle = _start(catalog[0], rerank_backend="vllm", rerank_base_url=slow_reranker)
    try:
        with SearchClient(handle.address, timeout_s=TIMEOUT_S) as client:
            client.search("warm up", top_k=1, rerank=False)        # first-query costs out of the timed call
            started = time.monotonic()
            resp = client.search("running shoes", top_k=5, timeout_s=2.0)
            elapsed = time.monotonic() - started
    finally:
        handle.stop(0)
    assert resp.degraded and "reranker timed out" in resp.degraded_reason, resp.degraded_reason
    assert len(resp.hits) == 5 and all(h.scores.rerank is None for h in resp.hits)
    assert 1.0 < elapsed < 2.0                             # it waited for the reranker, but not past the deadline


# ----------------------------------------------------------------------------------------------------------- CLI

def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "catalog_search.app.cli", *args], capture_output=True, text=True, timeout=60,
                          cwd=ROOT, env={**os.environ, **(env or {})})


def test_cli_search_table(server: Any) -> None:
    done = _cli("search", "black t-shirt", "--top-k", "3", "--address", server.address, "--timeout", "10")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[:4] == ["#", "sku", "title", "price"]
    assert sum(1 for line in lines if line[:1].isdigit()) == 3
    assert "rerank: none (no reranker configured)" in done.stdout and "timings:" in done.stdout


def test_cli_search_json_with_filters(server: Any, live: dict) -> None:
    done = _cli("search", "shoes", "--json", "--category", "Apparel > Shoes", "--brand", "Converse", "--brand",
                "Nike", "--price-min", "10", "--price-max", "200", "--in-stock", "--locale", "en-US",
                "--tenant", "default", "--no-rerank", "--address", server.address, "--timeout", "10")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert set(data) >= {"hits", "degraded", "degraded_reason", "timings_ms", "models"}
    assert data["hits"] and data["degraded"] is False
    for hit in data["hits"]:
        row = live[hit["sku"]]
        assert row.brand in ("Converse", "Nike") and row.category.startswith("Apparel > Shoes > ")
        assert row.in_stock and 10 <= row.price <= 200 and row.locale == "en-US"
        assert set(hit["scores"]) == {"dense", "bm25", "fused", "rerank"}


def test_cli_invalid_argument_exits_2_with_the_field(server: Any) -> None:
    done = _cli("search", "shoes", "--top-k", "101", "--address", server.address)
    assert done.returncode == 2 and "top_k" in done.stderr
    done = _cli("search", "shoes", "--price-min", "9", "--price-max", "1", "--address", server.address)
    assert done.returncode == 2 and "price" in done.stderr


def test_cli_unavailable_exits_1_and_asks_whether_the_server_runs() -> None:
    address = f"127.0.0.1:{free_port()}"
    done = _cli("search", "shoes", "--address", address, "--timeout", "3")
    assert done.returncode == 1 and f"is the server running at {address}?" in done.stderr


def test_cli_serve_starts_answers_and_stops_gracefully_on_sigterm(catalog: tuple) -> None:
    settings = catalog[0]
    address = f"127.0.0.1:{free_port()}"
    env = {**os.environ, "CATALOG_MILVUS_URI": settings.milvus.uri, "CATALOG_MILVUS_COLLECTION":
           settings.milvus.collection, "CATALOG_MILVUS_ALIAS": settings.milvus.alias, "CATALOG_GRPC_ADDRESS": address,
           "CATALOG_RERANK_BACKEND": "none", "CATALOG_EMBED_BACKEND": "local"}
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "catalog_search.app.cli", "serve"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        from grpc_health.v1 import health_pb2, health_pb2_grpc
        with grpc.insecure_channel(address) as channel:
            grpc.channel_ready_future(channel).result(timeout=60)
            status = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5).status
        ready_s = time.monotonic() - started
        assert status == health_pb2.HealthCheckResponse.SERVING
        with SearchClient(address, timeout_s=TIMEOUT_S) as client:
            assert len(client.search("shoes", top_k=2).hits) == 2
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr
    assert f"listening on {address}" in stderr
    print(f"\ncatalog-search serve: SERVING {ready_s:.2f}s after exec (interpreter + imports + searcher)")


# ------------------------------------------------------------------------------------------- bearer token (auth)

def test_with_an_api_key_only_callers_holding_it_get_answers(catalog: tuple[Settings, dict[str, Product]],
                                                               live: dict) -> None:
    handle = _start(catalog[0], grpc_api_key="s3cret-key")
    try:
        with SearchClient(handle.address, timeout_s=TIMEOUT_S) as stranger:
            with pytest.raises(SearchError) as refused:
                stranger.search("headphones", rerank=False)
            assert refused.value.code == grpc.StatusCode.UNAUTHENTICATED
            with pytest.raises(SearchError) as also:
                stranger.rerank("headphones", ["a", "b"])
            assert also.value.code == grpc.StatusCode.UNAUTHENTICATED
            assert stranger.health() == "SERVING"                  # probes need no key
        with SearchClient(handle.address, timeout_s=TIMEOUT_S, api_key="s3cret-key-but-longer") as wrong:
            with pytest.raises(SearchError) as bad:
                wrong.search("headphones", rerank=False)
            assert bad.value.code == grpc.StatusCode.UNAUTHENTICATED
        with SearchClient(handle.address, timeout_s=TIMEOUT_S, api_key="s3cret-key") as holder:
            assert set(skus(holder.search("headphones", rerank=False))) <= set(live)
            assert holder.search("headphones", rerank=False).hits
    finally:
        handle.stop(1.0)


def test_embedding_server_down_gives_a_bm25_answer_marked_degraded(catalog: tuple[Settings, dict[str, Product]],
                                                                    live: dict) -> None:
    """The real OpenAI-compatible embedder pointed at a port nobody listens on (connection refused)."""
    handle = _start(catalog[0], embed_backend="openai", embed_base_url=f"http://127.0.0.1:{free_port()}/v1",
                    embed_dim=catalog[0].embed.vector_dim, query_cache_size=0)
    try:
        with SearchClient(handle.address, timeout_s=TIMEOUT_S) as client:
            resp = client.search("wireless headphones", rerank=False)
        assert resp.hits and set(skus(resp)) <= set(live)
        assert resp.degraded and "query embedding unavailable" in resp.degraded_reason
        assert all(h.scores.dense is None and h.scores.bm25 for h in resp.hits)
    finally:
        handle.stop(1.0)


def test_the_server_reports_calls_stages_degraded_answers_and_cache_hits(
        catalog: tuple[Settings, dict[str, Product]]) -> None:
    import httpx
    port = free_port()
    handle = _start(catalog[0], grpc_metrics_port=port, grpc_api_key="k")
    try:
        with SearchClient(handle.address, timeout_s=TIMEOUT_S, api_key="k") as client:
            client.search("headphones", rerank=False)
            client.search("headphones", rerank=False)                  # the query vector from the cache
            with pytest.raises(InvalidSearch):
                client.search("headphones", top_k=10_000)
        with SearchClient(handle.address, timeout_s=TIMEOUT_S) as stranger, pytest.raises(SearchError):
            stranger.search("headphones")
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    finally:
        handle.stop(1.0)
    samples = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line and not line.startswith("#")}
    assert samples['catalog_search_requests_total{code="OK",rpc="Search"}'] == 2
    assert samples['catalog_search_requests_total{code="INVALID_ARGUMENT",rpc="Search"}'] == 1
    assert samples['catalog_search_requests_total{code="UNAUTHENTICATED",rpc="Search"}'] == 1
    assert samples['catalog_search_request_seconds_count{rpc="Search"}'] == 4
    assert samples['catalog_search_stage_seconds_count{stage="total"}'] == 2
    assert samples['catalog_search_stage_seconds_count{stage="dense"}'] == 2
    assert samples["catalog_search_query_cache_hits"] == 1 and samples["catalog_search_query_cache_misses"] == 1


def test_a_service_with_a_fixed_tenant_never_shows_another_tenants_products(
        catalog: tuple[Settings, dict[str, Product]], live: dict) -> None:
    tenants = {p.tenant for p in live.values()}
    mine = sorted(tenants)[0]
    for fixed, expect_hits in ((mine, True), ("tenant-with-no-products", False)):
        handle = _start(catalog[0], search_tenant=fixed)
        try:
            with SearchClient(handle.address, timeout_s=TIMEOUT_S) as client:
                resp = client.search("headphones", rerank=False)
                assert bool(resp.hits) is expect_hits
                assert all(live[s].tenant == fixed for s in skus(resp))
                with pytest.raises(InvalidSearch, match="filters.tenant"):
                    client.search("headphones", tenant=f'{fixed}" or tenant != "', rerank=False)
        finally:
            handle.stop(1.0)
