"""The web page's HTTP API in front of a retrieval server configured as the compose stack is (TLS, an API key)
plus tenant tokens, on the real catalog (Milvus Lite): over real HTTP, a caller without a token gets 401, a tenant
token's searches only ever show its tenant (the token is relayed over TLS to the gRPC service, which confines it),
the API key sees both tenants, and the page and its status stay open."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from catalog_search.app.localstack import free_port
from catalog_search.core.product import Product
from catalog_search.core.settings import Settings
from tests.retrieve.test_grpc_tls import make_certs

TOKENS = {"default": "web-default-2f8c41d07e9a5b36", "outlet": "web-outlet-c7e3a90b15d2f846"}
ADMIN = "web-admin-9d2e6f1a0c4b8e73"
TIMEOUT_S = 20.0


@pytest.fixture(scope="module")
def guarded(web_catalog: tuple[Settings, dict[str, Product]], tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[str]:
    """The URL of a page whose gRPC service requires TLS and a token; the page's own client is configured from the
    same settings (as `catalog-search ui` is)."""
    from catalog_search.app.search_wiring import start_search_server
    from catalog_search.app.web.api import create_app
    from catalog_search.app.web.server import WebServer
    from catalog_search.retrieve.client import SearchClient, load_tokens

    certs = make_certs(tmp_path_factory.mktemp("certs"))
    tokens = tmp_path_factory.mktemp("tokens") / "tokens"
    tokens.write_text("".join(f"{t} {tenant}\n" for tenant, t in TOKENS.items()), encoding="utf-8")
    address = f"127.0.0.1:{free_port()}"
    settings = web_catalog[0].replace(
        grpc_address=address, grpc_api_key=ADMIN, grpc_tenant_tokens_file=str(tokens),
        grpc_tls_cert_file=str(certs / "server.pem"), grpc_tls_key_file=str(certs / "server.key"),
        grpc_tls_ca_file=str(certs / "ca.pem"))
    handle = start_search_server(settings, address=address)
    try:
        with SearchClient.from_settings(settings.grpc, timeout_s=TIMEOUT_S) as client, \
                WebServer(create_app(client, tokens=load_tokens(settings.grpc)), "127.0.0.1", 0) as web:
            yield web.url
    finally:
        handle.stop(0)


def search(url: str, token: str | None, **body: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(f"{url}v1/search", json={"rerank": False, "top_k": 50, **body}, headers=headers,
                      timeout=TIMEOUT_S + 10)


def test_no_token_or_an_unknown_one_is_401_with_a_clear_message(guarded: str) -> None:
    for token in (None, "nope", TOKENS["outlet"] + "x"):
        resp = search(guarded, token, query="shoes")
        assert resp.status_code == 401, token
        assert "bearer token" in resp.json()["error"]["message"]
    assert httpx.get(f"{guarded}v1/status", timeout=10).json()["serving"] is True      # over TLS, no token
    assert httpx.get(guarded, timeout=10).status_code == 200


@pytest.mark.parametrize("tenant", sorted(TOKENS))
def test_a_tenant_token_sees_only_its_tenant_through_the_page(guarded: str, web_catalog: tuple,
                                                              tenant: str) -> None:
    rows = web_catalog[1]
    other = next(t for t in TOKENS if t != tenant)
    for query in ("shoes", "sneaker", "Apple"):
        for filters in ({}, {"tenant": ""}, {"brands": ["Converse", "Nike", "Apple"]},
                        {"tenant": f'{tenant}" or tenant == "{other}'}):
            resp = search(guarded, TOKENS[tenant], query=query, filters=filters)
            if resp.status_code == 400:
                assert resp.json()["error"]["field"] == "filters.tenant"
                continue
            assert resp.status_code == 200, resp.text
            assert {rows[h["sku"]].tenant for h in resp.json()["hits"]} <= {tenant}, (query, filters)
    refused = search(guarded, TOKENS[tenant], query="shoes", filters={"tenant": other})
    assert refused.status_code == 400 and refused.json()["error"]["field"] == "filters.tenant"


def test_the_api_key_sees_both_tenants_through_the_page(guarded: str, web_catalog: tuple) -> None:
    rows = web_catalog[1]
    seen = set()
    for query in ("shoes", "sneaker", "Apple"):
        resp = search(guarded, ADMIN, query=query, filters={"brands": ["Converse", "Nike", "Apple"]})
        assert resp.status_code == 200
        seen |= {rows[h["sku"]].tenant for h in resp.json()["hits"]}
    assert seen == set(TOKENS)
