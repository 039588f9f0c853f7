"""The HTTP JSON API end to end over real HTTP: uvicorn -> the app -> ``SearchClient`` -> a real gRPC retrieval
server -> Milvus Lite holding the sample catalog and its change stream (conftest.py). Ground truth comes from the
stored rows, so the filter checks hold whatever the ranking does; the answers are compared with the gRPC client's
for the same request."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from catalog_search.core.product import Product, embed_text
from catalog_search.retrieve.client import SearchClient, response_to_dict

from tests.app.web.conftest import TIMEOUT_S, Web

EARBUDS = "wireless earbuds with noise cancellation"


def post(web: Web, path: str, body: Any) -> httpx.Response:
    return httpx.post(web.url + path.lstrip("/"), json=body, timeout=TIMEOUT_S + 5)


def test_a_search_answers_what_the_grpc_client_answers(web: Web, live: dict[str, Product]) -> None:
    resp = post(web, "/v1/search", {"query": EARBUDS, "top_k": 5})
    assert resp.status_code == 200, resp.text
    data = resp.json()
    assert [h["rank"] for h in data["hits"]] == [1, 2, 3, 4, 5] and data["degraded"] is False
    top = data["hits"][0]
    assert top["sku"] == "EN-ELE-0008" and "AirPods Pro" in top["title"]           # the earbuds, not headphones
    for hit in data["hits"]:
        row = live[hit["sku"]]
        assert (hit["title"], hit["brand"], hit["category"], hit["in_stock"]) == \
            (row.title, row.brand, row.category, row.in_stock)
        assert hit["price"] == pytest.approx(row.price) and hit["scores"]["rerank"] is None
    assert data["models"]["reranker"] == "none" and "embedding" in data["models"]
    assert {"embed", "dense", "bm25", "fuse", "total"} <= set(data["timings_ms"])
    with SearchClient(web.grpc_address, timeout_s=TIMEOUT_S) as client:
        direct = response_to_dict(client.search(EARBUDS, top_k=5))
    assert data["hits"] == direct["hits"]                                          # the same hits, scores included


def test_a_filtered_search_returns_exactly_the_matching_products(web: Web, live: dict[str, Product]) -> None:
    body = {"query": EARBUDS, "top_k": 100, "filters": {"categories": ["Electronics"], "price_max": 300,
                                                         "in_stock_only": True}}
    resp = post(web, "/v1/search", body)
    assert resp.status_code == 200, resp.text
    got = {h["sku"] for h in resp.json()["hits"]}
    expected = {sku for sku, p in live.items()
                if (p.category == "Electronics" or p.category.startswith("Electronics > ")) and p.price <= 300
                and p.in_stock}
    assert got == expected and "EN-ELE-0008" in got and "EN-ELE-0007" not in got   # 0007 is out of stock
    exact = post(web, "/v1/search", {"query": "shoes", "top_k": 100, "filters": {
        "categories": [{"path": "Apparel > Shoes", "prefix": False}], "brands": ["Converse"], "locale": "en-US"}})
    assert exact.status_code == 200 and exact.json()["hits"] == []                 # no product sits at the bare path
    subtree = post(web, "/v1/search", {"query": "shoes", "top_k": 100, "filters": {
        "categories": [{"path": "Apparel > Shoes", "prefix": True}], "brands": ["Converse"], "locale": "en-US"}})
    hits = subtree.json()["hits"]
    assert hits and all(live[h["sku"]].brand == "Converse" and live[h["sku"]].locale == "en-US"
                        and live[h["sku"]].category.startswith("Apparel > Shoes > ") for h in hits)


@pytest.mark.parametrize("body, field", [
    ({"query": "shoes", "top_k": 101}, "top_k"),                                       # the service's validation
    ({"query": "shoes", "filters": {"price_min": 100, "price_max": 10}}, "filters.price_min"),
    ({"query": "   "}, "query"),
    ({"query": "shoes", "filters": {"brands": [""]}}, "filters.brands[0]"),
    ({"query": "shoes", "top_k": -1}, "top_k"),                                        # the client's (uint32)
    ({"query": "shoes", "filters": {"prcie_max": 10}}, "filters.prcie_max"),           # the JSON model's
])
def test_a_bad_field_is_400_naming_it(web: Web, body: dict, field: str) -> None:
    resp = post(web, "/v1/search", body)
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert error["code"] == "INVALID_ARGUMENT" and error["field"] == field, error
    assert error["message"].startswith(field)


def test_the_reranker_down_gives_a_degraded_answer_in_fused_order(web_rerank_down: Web) -> None:
    resp = post(web_rerank_down, "/v1/search", {"query": "running shoes", "top_k": 5})
    off = post(web_rerank_down, "/v1/search", {"query": "running shoes", "top_k": 5, "rerank": False})
    assert resp.status_code == 200 and off.status_code == 200, resp.text
    data = resp.json()
    assert data["degraded"] is True and data["degraded_reason"].startswith("reranker unavailable"), data
    assert data["models"]["reranker"] == web_rerank_down.settings.rerank.model
    assert len(data["hits"]) == 5 and all(h["scores"]["rerank"] is None for h in data["hits"])
    assert [h["sku"] for h in data["hits"]] == [h["sku"] for h in off.json()["hits"]]
    assert off.json()["degraded"] is False
    rerank = post(web_rerank_down, "/v1/rerank", {"query": "running shoes", "documents": ["a shoe", "a hat"]})
    assert rerank.status_code == 503, rerank.text
    error = rerank.json()["error"]
    assert error["backend"] == "RerankError" and "reranker unavailable" in error["message"]


def test_rerank_without_a_reranker_is_501(web: Web) -> None:
    resp = post(web, "/v1/rerank", {"query": "q", "documents": ["a", "b"]})
    assert resp.status_code == 501 and "no reranker configured" in resp.json()["error"]["message"]
    bad = post(web, "/v1/rerank", {"query": "q", "documents": ["a", ""]})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "documents[1]"


def test_the_service_down_is_503_without_a_backend_and_status_says_so(web_service_down: Web) -> None:
    resp = post(web_service_down, "/v1/search", {"query": "shoes"})
    assert resp.status_code == 503, resp.text
    error = resp.json()["error"]
    assert error["backend"] is None and web_service_down.grpc_address in error["message"]
    status = httpx.get(web_service_down.url + "v1/status", timeout=10)
    assert status.status_code == 503 and status.json()["service"] == "UNREACHABLE"


def test_status_and_schema_of_a_running_service(web: Web) -> None:
    status = httpx.get(web.url + "v1/status", timeout=10)
    assert status.status_code == 200 and status.json() == {"address": web.grpc_address, "service": "SERVING",
                                                           "serving": True}
    schema = httpx.get(web.url + "openapi.json", timeout=10).json()
    assert {"/v1/search", "/v1/rerank"} <= set(schema["paths"])


def test_rerank_scores_are_the_vllm_rerankers_for_those_texts(web_reranked: Web) -> None:
    from catalog_search.adapters.reranking.vllm import VLLMReranker

    examples = httpx.get(web_reranked.url + "static/examples.json", timeout=10).json()["examples"]
    example = examples[0]
    resp = post(web_reranked, "/v1/rerank", {"query": example["query"], "documents": example["documents"]})
    assert resp.status_code == 200, resp.text
    data = resp.json()
    assert data["model"] == web_reranked.settings.rerank.model
    assert sorted(r["index"] for r in data["results"]) == list(range(len(example["documents"])))
    scores = [r["score"] for r in data["results"]]
    assert scores == sorted(scores, reverse=True) and all(0.0 <= s <= 1.0 for s in scores)
    assert all(r["document"] == example["documents"][r["index"]] for r in data["results"])
    reranker = VLLMReranker.from_settings(web_reranked.settings)
    try:
        direct = reranker.rerank(example["query"], example["documents"], timeout_s=30,
                                 instruction=web_reranked.settings.rerank.instruction)
    finally:
        reranker.close()
    assert [direct[r["index"]] for r in data["results"]] == pytest.approx(scores, abs=1e-4)


def test_a_reranked_search_through_http_carries_the_vllm_scores(web_reranked: Web, live: dict[str, Product]) -> None:
    resp = post(web_reranked, "/v1/search", {"query": EARBUDS, "top_k": 5, "candidates": 10})
    assert resp.status_code == 200, resp.text
    data = resp.json()
    assert data["degraded"] is False, data["degraded_reason"]
    scores = [h["scores"]["rerank"] for h in data["hits"]]
    assert all(s is not None for s in scores) and scores == sorted(scores, reverse=True)
    texts = [embed_text(live[h["sku"]]) for h in data["hits"]]
    again = post(web_reranked, "/v1/rerank", {"query": EARBUDS, "documents": texts}).json()
    assert sorted(r["score"] for r in again["results"]) == pytest.approx(sorted(scores), abs=1e-4)
