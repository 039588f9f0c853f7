"""LocalReranker: the ConfigError without torch (main venv), and agreement with the vLLM server on the SAME tiny
checkpoint (run in the vLLM venv, which has torch and transformers, through a subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.source_tree import link_source_tree

from catalog_search.core.errors import ConfigError, RerankTimeoutError
from catalog_search.core.settings import load_settings
from catalog_search.adapters.reranking.vllm import VLLMReranker
from tests.adapters.reranking.test_vllm import DOCS, INSTRUCTION, LONG_DOC, vllm_margins

QUERIES = ["cordless drill", "沙发", "wireless mouse for gaming"]

# Runs in the vLLM venv: scores DOCS (+ LONG_DOC) for each query with the local backend, prints JSON.
LOCAL_SCRIPT = r"""
import json, sys
from catalog_search.adapters.reranking.local import LocalReranker
from catalog_search.core.errors import RerankTimeoutError
args = json.loads(sys.stdin.read())
rr = LocalReranker(args["model"], batch_size=3, max_doc_tokens=512, num_threads=2)
out = {"margins": {}, "scores": {}, "truncated": rr.truncate(args["long_doc"])}
for q in args["queries"]:
    out["margins"][q] = rr.margins(q, args["docs"], instruction=args["instruction"])
    out["scores"][q] = rr.rerank(q, args["docs"], instruction=args["instruction"])
try:
    rr.rerank("q", ["d"], timeout_s=0.0)
    out["timeout"] = "none"
except RerankTimeoutError as exc:
    out["timeout"] = "retriable" if exc.retriable else "not retriable"
print(json.dumps(out))
"""


def test_missing_torch_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)          # `import torch` -> ImportError
    from catalog_search.adapters.reranking.local import LocalReranker
    with pytest.raises(ConfigError, match="install torch and transformers to use CATALOG_RERANK_BACKEND=local"):
        LocalReranker("/nonexistent")
    with pytest.raises(ConfigError, match="CATALOG_RERANK_BACKEND=local"):
        LocalReranker.from_settings(load_settings(rerank_backend="local", rerank_model="/nonexistent"))


@pytest.fixture(scope="module")
def local_results(vllm_python: Path, tiny_qwen3_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    docs = [*DOCS, LONG_DOC]
    args = {"model": str(tiny_qwen3_dir), "docs": docs, "queries": QUERIES, "instruction": INSTRUCTION,
            "long_doc": LONG_DOC}
    src = link_source_tree(tmp_path_factory.mktemp("src"))      # the checkout's folders as `catalog_search`
    proc = subprocess.run([str(vllm_python), "-c", LOCAL_SCRIPT], input=json.dumps(args), capture_output=True,
                          text=True, timeout=300, cwd=str(src), check=False,
                          env={"PYTHONPATH": str(src), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
                               "PATH": "/usr/bin:/bin", "HOME": str(Path.home())})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.vllm
def test_local_matches_vllm_margins_and_order(vllm_rerank_server: Any, local_results: dict[str, Any]) -> None:
    docs = [*DOCS, local_results["truncated"]]   # the server scores the text the local backend scored
    worst = 0.0
    for q in QUERIES:
        local = local_results["margins"][q]
        served = vllm_margins(vllm_rerank_server, q, docs, INSTRUCTION)
        worst = max(worst, max(abs(a - b) for a, b in zip(local, served)))
        assert local == pytest.approx(served, abs=1e-3), q
        order = sorted(range(len(docs)), key=lambda i: -served[i])
        assert sorted(range(len(docs)), key=lambda i: -local[i]) == order, q
    print(f"\nlocal vs vLLM: max |margin difference| {worst:.2e} over {len(QUERIES)} x {len(docs)} pairs")


@pytest.mark.vllm
def test_local_matches_vllm_scores_and_truncation(vllm_rerank_server: Any, local_results: dict[str, Any]) -> None:
    docs = [*DOCS, LONG_DOC]
    with VLLMReranker(vllm_rerank_server.base_url, vllm_rerank_server.model, max_doc_tokens=512) as rr:
        assert rr._truncator.truncate(LONG_DOC) == local_results["truncated"]   # both cut to the same text
        for q in QUERIES:
            served = rr.rerank(q, docs, instruction=INSTRUCTION)
            assert local_results["scores"][q] == pytest.approx(served, abs=1e-3), q
    assert local_results["timeout"] == "retriable"
