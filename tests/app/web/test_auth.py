"""The HTTP API's token check with a fake service behind it: 401 before any call without a known token, the
caller's token relayed to the service, the page, its files, the schema and the status open. Against the real stack
(TLS, tenant tokens): test_auth_e2e.py."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from fastapi.testclient import TestClient

from catalog_search.app.web.api import create_app
from catalog_search.retrieve.client import SearchError, TokenTable
from tests.app.web.test_api import FakeClient

TOKENS = TokenTable({"admin-token": None, "tenant-a-token-0123456789": "a"})


class RelayingFake(FakeClient):
    def rerank(self, query: str, documents: Any, *, instruction: str | None = None, **kw: Any) -> Any:
        answer = super().rerank(query, documents, instruction=instruction)
        self.calls[-1][1].update(kw)
        return answer


def http(fake: FakeClient, tokens: TokenTable | None = TOKENS) -> TestClient:
    return TestClient(create_app(fake, tokens=tokens))


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer"}, {"Authorization": "Bearer wrong"},
                                     {"Authorization": "admin-token"}, {"Authorization": "Basic admin-token"},
                                     {"Authorization": "Bearer admin-token-and-more"}])
def test_without_a_known_token_the_api_answers_401_and_calls_nothing(headers: dict) -> None:
    fake = RelayingFake()
    client = http(fake)
    for path, body in (("/v1/search", {"query": "drill"}), ("/v1/rerank", {"query": "q", "documents": ["a", "b"]})):
        resp = client.post(path, json=body, headers=headers)
        assert resp.status_code == 401
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")
        assert "Content-Security-Policy" in resp.headers                      # refusals carry the headers too
        error = resp.json()["error"]
        assert error["code"] == "UNAUTHENTICATED" and "token" in error["message"]
    assert fake.calls == []


def test_a_known_token_is_relayed_to_the_service() -> None:
    fake = RelayingFake()
    client = http(fake)
    resp = client.post("/v1/search", json={"query": "drill"},
                       headers={"Authorization": "Bearer tenant-a-token-0123456789"})
    assert resp.status_code == 200
    assert fake.calls[-1][1]["bearer_token"] == "tenant-a-token-0123456789"
    resp = client.post("/v1/rerank", json={"query": "q", "documents": ["a", "b"]},
                       headers={"Authorization": "Bearer admin-token"})
    assert resp.status_code == 200 and fake.calls[-1][1]["bearer_token"] == "admin-token"


def test_without_tokens_the_api_is_open_and_relays_nothing() -> None:
    fake = RelayingFake()
    assert http(fake, tokens=None).post("/v1/search", json={"query": "drill"}).status_code == 200
    assert "bearer_token" not in fake.calls[-1][1]


def test_the_page_its_files_the_schema_and_the_status_stay_open() -> None:
    client = http(RelayingFake())
    for path in ("/", "/static/app.js", "/openapi.json", "/v1/status"):
        assert client.get(path).status_code == 200, path


def test_the_service_refusing_the_token_is_401() -> None:
    fake = RelayingFake(error=SearchError(grpc.StatusCode.UNAUTHENTICATED, "missing or unknown bearer token"))
    resp = http(fake).post("/v1/search", json={"query": "drill"}, headers={"Authorization": "Bearer admin-token"})
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "UNAUTHENTICATED"


def test_the_page_sends_the_token_it_was_opened_with_and_says_how_on_401() -> None:
    js = http(RelayingFake()).get("/static/app.js").text
    assert "#token=" in js and "sessionStorage" in js and '"Authorization": `Bearer ${token}`' in js
    assert "case 401" in js
