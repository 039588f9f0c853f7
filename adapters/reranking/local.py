"""Reranker backend that runs a local Qwen3-Reranker checkpoint with transformers (no server).

The checkpoint (``settings.rerank.model`` = a local directory) is loaded with ``AutoModelForCausalLM`` and
``AutoTokenizer``. Each pair is scored on ``rerank.prompt.full_prompt(...)`` — the same text the vLLM backend
makes the server score — tokenized the way vLLM tokenizes it (``add_special_tokens=True``; the real Qwen3
tokenizer adds nothing), and the score is the same formula vLLM uses for ``is_original_qwen3_reranker``::

    P(yes) = softmax([logit_no, logit_yes])[1] = sigmoid(logit_yes - logit_no)   at the last position

Pairs are run in batches (left padding, position ids from the attention mask) under ``torch.no_grad``. Documents
are cut to their first ``max_doc_tokens`` tokens first, with the same budget rule as the vLLM backend's
``/tokenize`` truncation. A ``timeout_s`` is checked between batches (a running batch cannot be interrupted).

torch and transformers are imported lazily; without them construction raises ``ConfigError`` (the project's main
environment deliberately has no torch).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from catalog_search.adapters.truncation import _RETOKENIZE_SLACK
from catalog_search.core.errors import ConfigError, RerankError, RerankTimeoutError
from catalog_search.adapters.reranking.qwen3 import NO_TOKEN, YES_TOKEN, full_prompt

if TYPE_CHECKING:
    from catalog_search.core.settings import Settings

MISSING_DEPS = "install torch and transformers to use CATALOG_RERANK_BACKEND=local"


def _import_torch_transformers() -> tuple[Any, Any]:
    try:
        import torch
        import transformers
    except ImportError as exc:
        raise ConfigError(f"{MISSING_DEPS} ({exc})") from exc
    return torch, transformers


class LocalReranker:
    """``Reranker`` running a Qwen3-Reranker checkpoint in-process (see the module docstring)."""

    def __init__(self, model_path: str | Path, *, batch_size: int = 8, max_doc_tokens: int | None = 512,
                 dtype: str = "float32", device: str = "cpu", num_threads: int | None = None) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        if max_doc_tokens is not None and max_doc_tokens < 1:
            raise ValueError("max_doc_tokens must be >= 1 or None")
        torch, transformers = _import_torch_transformers()
        path = Path(model_path).expanduser()
        if not path.is_dir():
            raise ConfigError(f"CATALOG_RERANK_MODEL: {model_path} is not a local checkpoint directory "
                              "(the local rerank backend loads a downloaded Qwen3-Reranker)")
        if num_threads:
            torch.set_num_threads(num_threads)
        self._torch = torch
        self._model_id = str(model_path)
        self._batch_size = batch_size
        self._max_doc_tokens = max_doc_tokens
        self._device = device
        try:
            self._tokenizer = transformers.AutoTokenizer.from_pretrained(str(path))
            self._model = transformers.AutoModelForCausalLM.from_pretrained(
                str(path), dtype=getattr(torch, dtype)).to(device).eval()
        except (OSError, ValueError) as exc:
            raise ConfigError(f"CATALOG_RERANK_MODEL: cannot load {path}: {exc}") from exc
        if self._tokenizer.pad_token_id is None:
            self._tokenizer.pad_token = self._tokenizer.eos_token
        self._tokenizer.padding_side = "left"
        unk = self._tokenizer.unk_token_id
        self._yes_id = self._tokenizer.convert_tokens_to_ids(YES_TOKEN)
        self._no_id = self._tokenizer.convert_tokens_to_ids(NO_TOKEN)
        for name, tid in ((YES_TOKEN, self._yes_id), (NO_TOKEN, self._no_id)):
            if tid is None or (unk is not None and tid == unk):
                raise ConfigError(f"CATALOG_RERANK_MODEL: {path} has no {name!r} token; not a Qwen3-Reranker?")
        self._special_tokens = len(self._tokenizer("", add_special_tokens=True)["input_ids"])
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> LocalReranker:
        r = settings.rerank
        return cls(r.model, max_doc_tokens=r.max_doc_tokens, dtype=r.dtype, device=r.device,
                   num_threads=r.num_threads or None)

    # -- Reranker protocol -------------------------------------------------------------------------------------

    @property
    def model_id(self) -> str:
        return self._model_id

    def rerank(self, query: str, documents: Sequence[str], *, instruction: str | None = None,
               timeout_s: float | None = None) -> list[float]:
        return [_sigmoid(m) for m in self.margins(query, documents, instruction=instruction, timeout_s=timeout_s)]

    def close(self) -> None:
        pass

    # -- scoring -----------------------------------------------------------------------------------------------

    def margins(self, query: str, documents: Sequence[str], *, instruction: str | None = None,
                timeout_s: float | None = None) -> list[float]:
        """``logit_yes - logit_no`` at the last position for each document (the score before the sigmoid)."""
        docs = list(documents)
        for i, d in enumerate(docs):
            if not isinstance(d, str):
                raise RerankError(f"document {i} is {type(d).__name__}, not str", retriable=False)
        if timeout_s is not None and timeout_s <= 0:
            raise RerankTimeoutError(f"no time left for the reranker ({timeout_s:.3f}s)", timeout_s=timeout_s)
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        prompts = [full_prompt(query, self.truncate(d), instruction) for d in docs]
        out: list[float] = []
        with self._lock:
            for start in range(0, len(prompts), self._batch_size):
                if deadline is not None and time.monotonic() > deadline:
                    raise RerankTimeoutError(f"reranker timed out after {timeout_s:.2f}s", timeout_s=timeout_s)
                out.extend(self._score_batch(prompts[start:start + self._batch_size]))
        if deadline is not None and time.monotonic() > deadline:
            raise RerankTimeoutError(f"reranker timed out after {timeout_s:.2f}s", timeout_s=timeout_s)
        return out

    def truncate(self, document: str) -> str:
        """The first ``max_doc_tokens`` tokens of ``document`` (same budget rule as ``TokenTruncator``)."""
        budget = self._max_doc_tokens
        if budget is None:
            return document
        ids = self._tokenizer(document, add_special_tokens=False)["input_ids"]
        if len(ids) + self._special_tokens <= budget:
            return document
        keep = budget - self._special_tokens - _RETOKENIZE_SLACK
        if keep <= 0:
            return ""
        return self._tokenizer.decode(ids[:keep]).rstrip("\ufffd")

    def _score_batch(self, prompts: list[str]) -> list[float]:
        torch = self._torch
        enc = self._tokenizer(prompts, padding=True, return_tensors="pt", add_special_tokens=True)
        input_ids = enc["input_ids"].to(self._device)
        mask = enc["attention_mask"].to(self._device)
        position_ids = (mask.long().cumsum(-1) - 1).clamp(min=0)
        try:
            with torch.no_grad():
                logits = self._model(input_ids=input_ids, attention_mask=mask, position_ids=position_ids,
                                     logits_to_keep=1).logits[:, -1, :]
        except RuntimeError as exc:   # out of memory and the like
            raise RerankError(f"local reranker failed: {exc}", retriable=True) from exc
        pair = logits[:, [self._no_id, self._yes_id]].float()
        return (pair[:, 1] - pair[:, 0]).tolist()


def _sigmoid(x: float) -> float:
    """P(yes) from the yes-no margin, stable for large |x|."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)
