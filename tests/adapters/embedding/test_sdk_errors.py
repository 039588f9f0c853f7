"""The embedder's mapping of the openai SDK's errors: retriable or not, the server's message, over-long inputs,
and no retries inside the SDK (``max_retries=0``: one request per failure)."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest

from catalog_search.adapters.embedding.openai_api import OpenAIEmbedder
from catalog_search.core.errors import EmbeddingError, InputTooLongError
from tests.adapters.embedding.servers import BASE, FakeServer, make, respond


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_throttling_and_server_errors_are_retriable(status: int) -> None:
    server = FakeServer()
    server.override = respond(status, {"error": {"message": "busy, try later", "code": status}})
    with pytest.raises(EmbeddingError) as info:
        make(server).embed_documents(["a"])
    assert info.value.retriable is True
    assert not isinstance(info.value, InputTooLongError)
    assert str(status) in str(info.value) and "busy, try later" in str(info.value)
    assert isinstance(info.value.__cause__, openai.APIStatusError)
    assert len(server.requests) == 1          # the SDK's own retries are off: ingest.retry is the one layer


@pytest.mark.parametrize("status,body", [
    (400, {"error": {"message": "Model 'm' only supports dimensions in range [1, 1024], got 2048.",
                     "type": "BadRequestError", "code": 400}}),
    (404, {"error": {"message": "The model `m` does not exist.", "type": "NotFoundError", "code": 404}}),
    (401, {"error": {"message": "Unauthorized"}}),
    (422, {"detail": [{"loc": ["body", "input"], "msg": "field required"}]}),
])
def test_client_errors_are_not_retriable_and_carry_the_server_message(status: int, body: Any) -> None:
    server = FakeServer()
    server.override = respond(status, body)
    with pytest.raises(EmbeddingError) as info:
        make(server).embed_documents(["a"])
    assert info.value.retriable is False
    assert not isinstance(info.value, InputTooLongError)
    assert str(status) in str(info.value)
    message = body["error"]["message"] if "error" in body else "field required"
    assert message in str(info.value)


def test_overlong_input_400_is_input_too_long_with_index() -> None:
    msg = ("This model's maximum context length is 64 tokens. However, your prompt contains at least 65 input "
           "tokens, which exceeds this limit even without any output tokens. Please reduce the length of the input "
           "prompt. (parameter=input_tokens, value=65)")
    server = FakeServer()
    server.override = lambda req, body: (httpx.Response(400, json={"error": {"message": msg, "code": 400}})
                                         if "long" in body["input"][0] else None)
    emb = make(server, batch_size=1, max_concurrency=2)
    with pytest.raises(InputTooLongError) as info:
        emb.embed_documents(["ok", "ok too", "long one"])
    assert info.value.retriable is False and info.value.index == 2
    assert "maximum context length is 64" in str(info.value)


def test_http_413_is_input_too_long() -> None:
    server = FakeServer()
    server.override = respond(413, text="Request Entity Too Large")
    with pytest.raises(InputTooLongError) as info:
        make(server, batch_size=1).embed_documents(["a"])
    assert info.value.index == 0 and "413" in str(info.value)


def test_overlong_input_in_a_batch_has_no_single_index() -> None:
    server = FakeServer()
    server.override = respond(400, {"error": {"message": "Input is too long for this model", "code": 400}})
    with pytest.raises(InputTooLongError) as info:
        make(server, batch_size=4).embed_documents(["a", "b", "c", "d", "e"])
    assert info.value.index is None and "0..3" in str(info.value)


def test_connection_error_is_retriable() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    emb = OpenAIEmbedder(BASE, "m", 16, transport=httpx.MockTransport(handler))
    with pytest.raises(EmbeddingError) as info:
        emb.embed_documents(["a"])
    assert info.value.retriable is True and "unreachable" in str(info.value)
    assert isinstance(info.value.__cause__, openai.APIConnectionError)       # mapped once, from the SDK's error
    assert isinstance(info.value.__cause__.__cause__, httpx.ConnectError)
    assert len(calls) == 1


@pytest.mark.parametrize("exc_type", [httpx.ReadTimeout, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.WriteTimeout])
def test_timeouts_are_retriable(exc_type: type[httpx.TimeoutException]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc_type("timed out", request=request)

    emb = OpenAIEmbedder(BASE, "m", 16, transport=httpx.MockTransport(handler))
    with pytest.raises(EmbeddingError) as info:
        emb.embed_queries(["a"])
    assert info.value.retriable is True and "timed out" in str(info.value)
    assert isinstance(info.value.__cause__, openai.APITimeoutError)


def test_real_connection_refused_is_retriable() -> None:
    emb = OpenAIEmbedder("http://127.0.0.1:9/v1", "m", 16, timeout_s=2.0)
    with pytest.raises(EmbeddingError) as info:
        emb.embed_documents(["a"])
    assert info.value.retriable is True


def test_non_json_error_body_is_quoted() -> None:
    server = FakeServer()
    server.override = respond(502, text="Bad Gateway from nginx")
    with pytest.raises(EmbeddingError, match="Bad Gateway from nginx") as info:
        make(server).embed_documents(["a"])
    assert info.value.retriable is True


def test_request_on_a_closed_embedder_is_not_retriable() -> None:
    emb = make(FakeServer())
    emb.close()
    with pytest.raises(EmbeddingError) as info:
        emb.embed_documents(["a"])
    assert info.value.retriable is False
