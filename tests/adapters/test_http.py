"""The httpx helpers of the vLLM-only endpoints: status mapping, the server's message, over-long detection (pure)."""

from __future__ import annotations

import httpx
import pytest

from catalog_search.adapters.http import EMBEDDING_SERVER, check_status, says_too_long, server_message
from catalog_search.core.errors import EmbeddingError, InputTooLongError


@pytest.mark.parametrize("status,message,expected", [
    (413, "", True),
    (400, "This model's maximum context length is 64 tokens", True),
    (422, "input_tokens too many", True),
    (400, "dimensions out of range", False),
    (404, "too long", False),          # only 400/422 bodies are read for it
])
def test_says_too_long(status: int, message: str, expected: bool) -> None:
    assert says_too_long(status, message) is expected


@pytest.mark.parametrize("response,message", [
    (httpx.Response(400, json={"error": {"message": "bad dims"}}), "bad dims"),
    (httpx.Response(422, json={"detail": "field required"}), "field required"),
    (httpx.Response(502, text="Bad Gateway from nginx"), "Bad Gateway from nginx"),
    (httpx.Response(500, json={"error": "boom"}), "boom"),
])
def test_server_message(response: httpx.Response, message: str) -> None:
    assert server_message(response) == message


def test_check_status_classes() -> None:
    url = "http://h/tokenize"
    ok = httpx.Response(200, json={})
    assert check_status(ok, url) is ok
    with pytest.raises(EmbeddingError) as info:
        check_status(httpx.Response(503, json={"error": {"message": "busy"}}), url, EMBEDDING_SERVER)
    assert info.value.retriable is True and "busy" in str(info.value)
    with pytest.raises(InputTooLongError):
        check_status(httpx.Response(413, text="too large"), url, EMBEDDING_SERVER)
    with pytest.raises(EmbeddingError) as info:
        check_status(httpx.Response(401, json={"error": {"message": "Unauthorized"}}), url, EMBEDDING_SERVER)
    assert info.value.retriable is False and "401" in str(info.value)
