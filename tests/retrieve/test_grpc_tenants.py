"""Tenant tokens on the real stack: the sample catalog (tenants ``default`` and ``outlet``, sharing brands such as
Converse, Nike and Apple) ingested into a Milvus Lite server, the real searcher behind the real gRPC server with
``CATALOG_GRPC_TENANT_TOKENS_FILE`` and an API key, reached through ``SearchClient``.

Whatever a tenant token's request sends - the other tenant in ``filters.tenant``, no tenant, filter-injection text,
brands both tenants carry, grouping, facets, sorting, paging - it is answered INVALID_ARGUMENT or with its own
tenant's products only (facet counts included). The API key, which sees every tenant, finds the other tenant's
products for the same requests, so the checks could fail.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from catalog_search.adapters.embedding.local import LocalEmbedder
from catalog_search.adapters.milvus.store import MilvusStore
from catalog_search.app.localstack import free_port
from catalog_search.core.events import event_from_dict
from catalog_search.core.product import Product
from catalog_search.core.settings import Settings, load_settings
from catalog_search.ingest.pipeline import Pipeline
from catalog_search.retrieve.client import InvalidSearch, SearchClient, SearchError
from catalog_search.retrieve.domain import SearchResponse
from tests.support.stack import drop_catalog

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 15.0
TOKENS = {"default": "tok-default-6a1f0c9e2b7d4f38", "outlet": "tok-outlet-93be5d20c4a1e7f6"}
ADMIN = "admin-key-5c0e8a7f1d2b4e69"
QUERIES = ("shoes", "sneaker", "headphones", "Apple", "backpack")


@pytest.fixture(scope="module")
def stack(milvus_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, dict[str, Product]]]:
    suffix = uuid.uuid4().hex[:10]
    tokens = tmp_path_factory.mktemp("tokens") / "tenant-tokens"
    tokens.write_text("".join(f"{token} {tenant}\n" for tenant, token in TOKENS.items()), encoding="utf-8")
    settings = load_settings(milvus_uri=milvus_server.uri, milvus_collection=f"ten_{suffix}",
                             milvus_alias=f"ten_a_{suffix}", embed_backend="local", rerank_backend="none",
                             milvus_timeout_s=10.0, grpc_api_key=ADMIN, grpc_tenant_tokens_file=str(tokens))
    store = MilvusStore.from_settings(settings)
    store.ensure_collection()
    embedder = LocalEmbedder()
    lines = (ROOT / "app" / "data" / "sample_catalog.jsonl").read_text(encoding="utf-8").splitlines()
    events = [event_from_dict(json.loads(line)) for line in lines if line.strip()]
    pipeline = Pipeline(embedder, store)
    for start in range(0, len(events), 64):
        pipeline.process(events[start:start + 64])
    rows = store.fetch(sorted({e.sku for e in events}))
    assert {r.tenant for r in rows.values()} == set(TOKENS)
    try:
        yield settings, rows
    finally:
        try:
            drop_catalog(store)
        finally:
            embedder.close()


@pytest.fixture(scope="module")
def server(stack: tuple[Settings, dict[str, Product]]) -> Iterator[Any]:
    from catalog_search.app.search_wiring import start_search_server
    address = f"127.0.0.1:{free_port()}"
    handle = start_search_server(stack[0].replace(grpc_address=address), address=address)
    yield handle
    handle.stop(1.0)


def hostile_requests(other: str, brands: list[str]) -> list[dict[str, Any]]:
    """What a caller could send to reach another tenant's products."""
    injections = [f'{other}" or tenant != "', f"{other}' or 1==1 or '", f'" || tenant like "%', "\\\" or true or \\\"",
                  f"{other}\x00", f"{other} ", other.upper(), "", "*"]
    out: list[dict[str, Any]] = [{}, {"tenant": other}]
    out += [{"tenant": t} for t in injections]
    out += [{"brands": brands}, {"brands": [f'{brands[0]}" or tenant == "{other}']},
            {"group_by": "group_id", "facets": ["brand", "category", "price"], "page_size": 5},
            {"sort": "price_asc", "page_size": 3}, {"categories": ["Apparel"], "facets": ["brand"]},
            {"retrievers": "bm25"}, {"retrievers": "dense"}, {"locale": f'en-US" or tenant == "{other}'}]
    return out


def skus(resp: SearchResponse) -> list[str]:
    return [h.sku for h in resp.hits] + [s for h in resp.hits for s in h.variant_skus]


def test_the_api_key_sees_both_tenants_for_these_requests(server: Any, stack: tuple) -> None:
    """The control: unconfined, the same requests reach both tenants' products."""
    rows = stack[1]
    seen: set[str] = set()
    with SearchClient(server.address, timeout_s=TIMEOUT_S, api_key=ADMIN) as admin:
        for query in QUERIES:
            for extra in ({}, {"brands": ["Converse", "Nike", "Apple"]}):
                seen |= {rows[s].tenant for s in skus(admin.search(query, top_k=50, rerank=False, **extra))}
    assert seen == set(TOKENS)


@pytest.mark.parametrize("tenant", sorted(TOKENS))
def test_a_tenant_token_only_ever_sees_its_tenants_products(server: Any, stack: tuple, tenant: str) -> None:
    rows = stack[1]
    other = next(t for t in TOKENS if t != tenant)
    own = {s for s, r in rows.items() if r.tenant == tenant}
    own_brands = {r.brand for r in rows.values() if r.tenant == tenant}
    shared = sorted(own_brands & {r.brand for r in rows.values() if r.tenant == other})
    assert shared                                        # brands both tenants carry: a brand filter cannot separate
    answered = refused = 0
    with SearchClient(server.address, timeout_s=TIMEOUT_S, api_key=TOKENS[tenant]) as client:
        for query in QUERIES:
            for extra in hostile_requests(other, shared):
                try:
                    resp = client.search(query, top_k=50, rerank=False, **extra)
                except InvalidSearch:
                    refused += 1
                    continue
                answered += 1
                assert set(skus(resp)) <= own, (query, extra)
                for facet in resp.facets:
                    if facet.name == "brand":
                        assert {v.value for v in facet.values} <= own_brands, (query, extra)
                    assert sum(v.count for v in facet.values) <= len(own) * 2, (query, extra)
                if resp.result_set is not None:
                    assert resp.result_set.products <= len(own)
                if resp.next_page_token:                    # the next page stays confined too
                    nxt = client.search(query, top_k=50, rerank=False, page_token=resp.next_page_token,
                                        **{k: v for k, v in extra.items() if k != "page_token"})
                    assert set(skus(nxt)) <= own, (query, extra, "page 2")
    assert answered and refused                               # both outcomes were exercised


def test_a_tenant_token_naming_the_other_tenant_is_refused_on_filters_tenant(server: Any) -> None:
    with SearchClient(server.address, timeout_s=TIMEOUT_S, api_key=TOKENS["outlet"]) as client:
        with pytest.raises(InvalidSearch, match="filters.tenant: this token serves one tenant only"):
            client.search("shoes", tenant="default", rerank=False)
        assert client.search("shoes", tenant="outlet", rerank=False).hits


def test_an_unknown_or_missing_token_is_unauthenticated(server: Any) -> None:
    for key in ("", TOKENS["outlet"][:-1], TOKENS["outlet"] + "x", "outlet", "default"):
        with SearchClient(server.address, timeout_s=TIMEOUT_S, api_key=key) as client:
            with pytest.raises(SearchError) as refused:
                client.search("shoes", rerank=False)
            assert refused.value.code == grpc.StatusCode.UNAUTHENTICATED, key
            assert client.health() == "SERVING"
