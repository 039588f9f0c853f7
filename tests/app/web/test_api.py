"""The HTTP API's own edges with a fake service behind it (no gRPC, no Milvus): JSON validation naming the field,
the client's errors mapped to HTTP statuses, the page and its files served with a CSP that allows nothing foreign,
and the OpenAPI schema. The same API against the real stack: test_api_e2e.py."""

from __future__ import annotations

import json
import re
from typing import Any

import grpc
import pytest
from fastapi.testclient import TestClient

from catalog_search.app.web.api import create_app, field_path, static_dir
from catalog_search.retrieve.client import InvalidSearch, SearchError, SearchUnavailable
from catalog_search.retrieve.domain import CategoryFilter, FacetRequest, Hit, SearchResponse, StageScores
from catalog_search.retrieve.reranking import RerankedDocument, RerankResponse

HIT = Hit(sku="EN-1", title="Drill <b>", brand="Bosch", category="Tools > Drills", price=99.5, currency="USD",
          in_stock=True, score=0.91, scores=StageScores(dense=0.8, bm25=None, fused=0.03, rerank=0.91))


class FakeClient:
    address = "127.0.0.1:1"

    def __init__(self, error: Exception | None = None, health: str = "SERVING") -> None:
        self.error, self._health = error, health
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def search(self, query: str, **kwargs: Any) -> SearchResponse:
        self.calls.append((query, kwargs))
        if self.error:
            raise self.error
        return SearchResponse(hits=[HIT], degraded=True, degraded_reason="reranker timed out after 0.10s",
                              timings_ms={"embed": 1.0, "total": 3.0}, models={"embedding": "e5", "reranker": "r"},
                              request_id="9f1c", corrected_query="cordless drill")

    def rerank(self, query: str, documents: Any, *, instruction: str | None = None) -> RerankResponse:
        self.calls.append((query, {"documents": list(documents), "instruction": instruction}))
        if self.error:
            raise self.error
        docs = list(documents)
        return RerankResponse(results=[RerankedDocument(index=1, score=0.9, document=docs[1]),
                                       RerankedDocument(index=0, score=0.1, document=docs[0])], model="r",
                              timings_ms={"rerank": 2.0})

    def health(self, *, timeout_s: float | None = None) -> str:
        return self._health


def http(fake: FakeClient) -> TestClient:
    return TestClient(create_app(fake))


def test_search_maps_every_json_field_to_the_client_and_answers_the_response_as_json() -> None:
    fake = FakeClient()
    body = {"query": "drill", "top_k": 5, "rerank": False, "candidates": 20, "instruction": "find tools",
            "spell_correct": True, "filters": {"categories": ["Tools", {"path": "Garden > Hoses", "prefix": False}], "brands": ["Bosch"],
                        "price_min": 10, "price_max": 99.5, "in_stock_only": True, "locale": "en-US",
                        "tenant": "outlet"}}
    resp = http(fake).post("/v1/search", json=body)
    assert resp.status_code == 200, resp.text
    query, kwargs = fake.calls[0]
    assert query == "drill" and kwargs == {
        "top_k": 5, "categories": [CategoryFilter("Tools", True), CategoryFilter("Garden > Hoses", False)],
        "brands": ["Bosch"], "price_min": 10.0, "price_max": 99.5, "in_stock_only": True, "locale": "en-US",
        "tenant": "outlet", "rerank": False, "candidates": 20, "instruction": "find tools", "fusion": None,
        "alpha": None, "retrievers": None, "group_by": None, "facets": [], "page_size": 0, "page_token": "",
        "sort": None, "spell_correct": True}
    data = resp.json()
    assert data["hits"][0] == {"rank": 1, "sku": "EN-1", "title": "Drill <b>", "brand": "Bosch",
                               "category": "Tools > Drills", "price": 99.5, "currency": "USD", "in_stock": True,
                               "score": 0.91, "scores": {"dense": 0.8, "bm25": None, "fused": 0.03, "rerank": 0.91},
                               "group_id": "", "variant_count": 0}
    assert data["facets"] == {} and data["next_page_token"] == "" and "result_set" not in data
    assert data["degraded"] is True and data["degraded_reason"].startswith("reranker timed out")
    assert data["timings_ms"] == {"embed": 1.0, "total": 3.0} and data["models"]["reranker"] == "r"
    assert (data["request_id"], data["corrected_query"]) == ("9f1c", "cordless drill")
    assert resp.headers["server-timing"].startswith("service;dur=")
    assert resp.headers["cache-control"] == "no-store"


def test_grouping_facets_pages_sort_and_knobs_reach_the_client() -> None:
    fake = FakeClient()
    body = {"query": "drill", "fusion": "rrf", "alpha": 0.5, "retrievers": "bm25", "group_by": "group_id",
            "facets": ["brand", "category:2", {"field": "price", "ranges": [10, 50], "size": 5}], "page_size": 10,
            "page_token": "abc.def", "sort": "price_asc"}
    assert http(fake).post("/v1/search", json=body).status_code == 200
    kwargs = fake.calls[0][1]
    assert (kwargs["fusion"], kwargs["alpha"], kwargs["retrievers"], kwargs["group_by"]) == \
        ("rrf", 0.5, "bm25", "group_id")
    assert (kwargs["page_size"], kwargs["page_token"], kwargs["sort"]) == (10, "abc.def", "price_asc")
    assert kwargs["facets"] == [FacetRequest("brand"), FacetRequest("category", level=2),
                                FacetRequest("price", ranges=(10.0, 50.0), size=5)]


def test_defaults_are_the_wire_defaults() -> None:
    fake = FakeClient()
    assert http(fake).post("/v1/search", json={"query": "drill"}).status_code == 200
    kwargs = fake.calls[0][1]
    assert kwargs["top_k"] == 0 and kwargs["rerank"] is True and kwargs["candidates"] is None
    assert kwargs["locale"] is None and kwargs["categories"] == [] and kwargs["price_min"] is None
    assert (kwargs["fusion"], kwargs["alpha"], kwargs["retrievers"], kwargs["group_by"], kwargs["facets"],
            kwargs["page_size"], kwargs["page_token"], kwargs["sort"]) == (None, None, None, None, [], 0, "", None)


@pytest.mark.parametrize("body, field", [
    ({"query": "x", "top_k": "5"}, "top_k"),
    ({"query": "x", "top_k": 2.5}, "top_k"),
    ({"query": "x", "filters": {"prcie_max": 3}}, "filters.prcie_max"),
    ({"query": "x", "filters": {"price_max": "cheap"}}, "filters.price_max"),
    ({"query": "x", "filters": {"categories": [{"path": "A", "prefx": True}]}}, "filters.categories[0].prefx"),
    ({"query": "x", "filters": {"brands": "Bosch"}}, "filters.brands"),
    ({"query": "x", "rerank": "yes"}, "rerank"),
    ({"top_k": 3}, "query"),
    ({"query": "x", "sortt": "price"}, "sortt"), ({"query": "x", "sort": 5}, "sort"),
    ({"query": "x", "page_size": "10"}, "page_size"), ({"query": "x", "facets": "brand"}, "facets"),
    ({"query": "x", "facets": [{"field": "brand", "lvl": 2}]}, "facets[0].lvl"),
    ({"query": "x", "facets": ["category:two"]}, "facets"),
])
def test_bad_json_fields_are_400_naming_the_field_and_never_reach_the_service(body: dict, field: str) -> None:
    fake = FakeClient()
    resp = http(fake).post("/v1/search", json=body)
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert error["field"] == field and error["code"] == "INVALID_ARGUMENT" and error["message"].startswith(field)
    assert fake.calls == []


def test_a_body_that_is_not_json_is_400() -> None:
    resp = http(FakeClient()).post("/v1/search", content=b"{not json", headers={"Content-Type": "application/json"})
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "INVALID_ARGUMENT"


@pytest.mark.parametrize("error, status, code, field, backend", [
    (InvalidSearch("filters.price_min: must be <= price_max (9.0 > 1.0)"), 400, "INVALID_ARGUMENT",
     "filters.price_min", None),
    (SearchUnavailable("search service at x unavailable after 3 attempt(s)", attempts=3), 503, "UNAVAILABLE", None,
     None),
    (SearchUnavailable("answered that a backend is down", attempts=3, backend="StoreError"), 503, "UNAVAILABLE", None,
     "StoreError"),
    (SearchError(grpc.StatusCode.FAILED_PRECONDITION, "no reranker configured"), 501, "FAILED_PRECONDITION", None,
     None),
    (SearchError(grpc.StatusCode.DEADLINE_EXCEEDED, "no answer within 1s"), 504, "DEADLINE_EXCEEDED", None, None),
    (SearchError(grpc.StatusCode.INTERNAL, "StoreError: schema"), 502, "INTERNAL", None, None),
])
def test_client_errors_map_to_http(error: SearchError, status: int, code: str, field: str | None,
                                   backend: str | None) -> None:
    for path, body in (("/v1/search", {"query": "x"}), ("/v1/rerank", {"query": "x", "documents": ["a", "b"]})):
        resp = http(FakeClient(error=error)).post(path, json=body)
        assert resp.status_code == status, (path, resp.text)
        assert resp.json()["error"] == {"status": status, "code": code, "field": field, "message": error.message,
                                        "backend": backend}


def test_rerank_answers_best_first_with_rank_and_index() -> None:
    fake = FakeClient()
    resp = http(fake).post("/v1/rerank", json={"query": "q", "documents": ["a", "b"], "instruction": "judge"})
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"results": [{"rank": 1, "index": 1, "score": 0.9, "document": "b"},
                                       {"rank": 2, "index": 0, "score": 0.1, "document": "a"}],
                           "model": "r", "timings_ms": {"rerank": 2.0}}
    assert fake.calls == [("q", {"documents": ["a", "b"], "instruction": "judge"})]
    bad = http(fake).post("/v1/rerank", json={"query": "q", "documents": ["a", 3]})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "documents[1]"


def test_status_says_whether_the_service_serves() -> None:
    up = http(FakeClient()).get("/v1/status")
    assert up.status_code == 200 and up.json() == {"address": "127.0.0.1:1", "service": "SERVING", "serving": True}
    down = http(FakeClient(health="UNREACHABLE")).get("/v1/status")
    assert down.status_code == 503 and down.json()["serving"] is False


def test_the_page_and_its_files_are_served_with_a_csp_that_allows_only_this_origin() -> None:
    client = http(FakeClient())
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "connect-src 'self'" in csp and "script-src 'self'" in csp
    refs = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert "/static/app.js" in refs and "/static/style.css" in refs
    for ref in refs:
        if ref.startswith("/static/"):
            assert client.get(ref).status_code == 200, ref
    examples = client.get("/static/examples.json").json()["examples"]
    assert [e["query"] for e in examples] == ["wireless earbuds with noise cancellation for running",
                                              "budget smartphone for a student with long battery life"]
    assert all(len(e["documents"]) >= 5 for e in examples)


def test_no_file_of_the_page_names_another_host() -> None:
    """Offline: no CDN, font service or analytics anywhere in the page's files."""
    files = sorted(p for p in static_dir().iterdir() if p.is_file())
    assert {p.suffix for p in files} >= {".html", ".js", ".css", ".json"}
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.I), path.name
        assert "@import" not in text and "analytics" not in text.lower(), path.name


def test_openapi_schema_documents_both_endpoints_and_no_cdn_docs_page() -> None:
    client = http(FakeClient())
    schema = client.get("/openapi.json").json()
    assert {"/v1/search", "/v1/rerank", "/v1/status"} <= set(schema["paths"])
    search = schema["paths"]["/v1/search"]["post"]
    assert {"200", "400", "503"} <= set(search["responses"])
    assert "SearchIn" in json.dumps(search["requestBody"])
    assert client.get("/docs").status_code == 404            # Swagger UI would load its scripts from a CDN


def test_field_path() -> None:
    assert field_path(("body", "filters", "categories", 0, "path")) == "filters.categories[0].path"
    assert field_path(("body",)) == "body" and field_path(("body", "query")) == "query"
