"""The reranker factory picks the backend the settings name; a missing torch is a clear configuration error."""

from __future__ import annotations

import sys

import pytest

from catalog_search.adapters.reranking.factory import make_reranker
from catalog_search.adapters.reranking.vllm import VLLMReranker
from catalog_search.core.errors import ConfigError
from catalog_search.core.settings import load_settings


def test_factory_backends() -> None:
    assert make_reranker(load_settings(rerank_backend="none")) is None
    rr = make_reranker(load_settings(rerank_backend="vllm", rerank_model="Qwen/Qwen3-Reranker-4B"))
    assert isinstance(rr, VLLMReranker) and rr.model_id == "Qwen/Qwen3-Reranker-4B"
    rr.close()


def test_factory_local_without_torch_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)   # import torch -> ImportError, as in the main venv
    with pytest.raises(ConfigError, match="install torch and transformers to use CATALOG_RERANK_BACKEND=local"):
        make_reranker(load_settings(rerank_backend="local", rerank_model="/nonexistent"))
