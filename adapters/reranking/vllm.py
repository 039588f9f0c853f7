"""Reranker backend for vLLM's ``/v1/rerank`` serving Qwen3-Reranker.

Server (the production flags, also used by the test fixtures)::

    vllm serve Qwen/Qwen3-Reranker-4B --runner pooling \\
        --hf-overrides '{"architectures":["Qwen3ForSequenceClassification"],
                         "classifier_from_token":["no","yes"],"is_original_qwen3_reranker":true}'

and NO score ``--chat-template`` (the client formats the prompt, see ``rerank.prompt``).

Request (one per ``rerank`` call, all documents at once)::

    POST {base_url}/rerank
    {"model": ..., "query": format_query(query, instruction),
     "documents": [format_document(doc), ...], "top_n": len(documents)}

vLLM answers ``{"results": [{"index": i, "relevance_score": p, "document": {...}}, ...]}`` sorted by score; the
scores are mapped back to input order by ``index`` and the response is validated (every index exactly once, finite
scores). ``relevance_score`` is sigmoid(logit_yes - logit_no) = P("yes").

* Client-side truncation: each raw document is cut to its first ``max_doc_tokens`` tokens with the reranker
  server's ``/tokenize`` + ``/detokenize`` (``catalog.embedding.truncation.TokenTruncator``) BEFORE it is wrapped
  in the template, so the assistant suffix is never cut off (vLLM's own ``max_tokens_per_doc`` would cut the
  formatted document, suffix included).
* Time: ``timeout_s`` is the time left of the caller's deadline; tokenizer requests and the rerank request all
  share it (each HTTP request gets the remainder as its httpx timeout). Running out raises
  ``RerankTimeoutError`` (a retriable ``RerankError``).
* Errors, mapped once: timeouts, connection errors, HTTP 429 and 5xx -> ``RerankError(retriable=True)``; other
  4xx (unknown model, prompt longer than max-model-len) and malformed responses -> ``retriable=False``.
  No retries here: the rerank stage degrades instead (``rerank.stage``).

SGLang differs: its ``/v1/rerank`` returns a bare JSON list ``[{"index": i, "score": s, "document": ...}, ...]``
(no ``results`` wrapper, ``score`` instead of ``relevance_score``); both shapes are parsed. SGLang serves
Qwen3-Reranker as a decoder-only yes/no scorer (launched WITHOUT ``--is-embedding``, with
``--chat-template examples/chat_template/qwen3_reranker.jinja``) and applies the template itself, taking the
instruction in an ``instruct`` field — so against SGLang construct with ``format_prompts=False`` (raw query and
documents are sent, plus ``instruct``).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import httpx

from catalog_search.adapters.http import ServerErrors, post
from catalog_search.adapters.truncation import TokenTruncator
from catalog_search.core.errors import RerankError, RerankTimeoutError
from catalog_search.adapters.reranking.qwen3 import format_document, format_query

if TYPE_CHECKING:
    from catalog_search.core.settings import Settings

DEFAULT_TIMEOUT_S = 30.0
RERANKER_SERVER = ServerErrors("reranker", RerankError)      # tokenizer and rerank requests alike


class _DeadlineClient:
    """Wraps an ``httpx.Client`` so that every POST made on this thread gets the time left of the current deadline.

    ``TokenTruncator`` only calls ``post(url, json=...)``; giving it this wrapper makes its tokenizer requests obey
    the same deadline as the rerank request without changing the truncator.
    """

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self._local = threading.local()

    def set_deadline(self, deadline: float | None) -> None:
        self._local.deadline = deadline

    def time_left(self) -> float | None:
        deadline = getattr(self._local, "deadline", None)
        return None if deadline is None else deadline - time.monotonic()

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        left = self.time_left()
        if left is not None:
            if left <= 0:
                raise httpx.ReadTimeout(f"the deadline passed before POST {url}")
            kwargs["timeout"] = httpx.Timeout(left)
        return self.client.post(url, **kwargs)


class VLLMReranker:
    """``Reranker`` for ``/v1/rerank`` of vLLM (and SGLang); see the module docstring."""

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str = "",
        max_doc_tokens: int | None = 512,
        default_timeout_s: float = DEFAULT_TIMEOUT_S,
        format_prompts: bool = True,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if max_doc_tokens is not None and max_doc_tokens < 1:
            raise ValueError("max_doc_tokens must be >= 1 or None (no client-side truncation)")
        if default_timeout_s <= 0:
            raise ValueError("default_timeout_s must be > 0")
        self._base_url = base_url.rstrip("/")
        self._model = model
        self._default_timeout_s = default_timeout_s
        self._format_prompts = format_prompts
        headers = {"Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._client = httpx.Client(headers=headers, timeout=httpx.Timeout(default_timeout_s), transport=transport)
        self._http = _DeadlineClient(self._client)
        self._truncator = TokenTruncator(self._http, self._base_url, model, max_doc_tokens,  # type: ignore[arg-type]
                                         RERANKER_SERVER)
        self._closed = False

    @classmethod
    def from_settings(cls, settings: Settings, *, transport: httpx.BaseTransport | None = None) -> VLLMReranker:
        return cls(
            base_url=settings.rerank.base_url,
            model=settings.rerank.model,
            max_doc_tokens=settings.rerank.max_doc_tokens,
            api_key=settings.rerank.api_key.get_secret_value(),
            format_prompts=settings.rerank.format_prompts,
            transport=transport,
        )

    # -- Reranker protocol -------------------------------------------------------------------------------------

    @property
    def model_id(self) -> str:
        return self._model

    def rerank(self, query: str, documents: Sequence[str], *, instruction: str | None = None,
               timeout_s: float | None = None) -> list[float]:
        if self._closed:
            raise RerankError("reranker is closed", retriable=False)
        docs = list(documents)
        for i, d in enumerate(docs):
            if not isinstance(d, str):
                raise RerankError(f"document {i} is {type(d).__name__}, not str", retriable=False)
        if not docs:
            return []
        budget = self._default_timeout_s if timeout_s is None else timeout_s
        if budget <= 0:
            raise RerankTimeoutError(f"no time left for the reranker ({budget:.3f}s)", timeout_s=budget)
        self._http.set_deadline(time.monotonic() + budget)
        try:
            docs = [self._truncator.truncate(d) for d in docs]
            payload = self._payload(query, docs, instruction)
            response = post(self._http, f"{self._base_url}/rerank", payload, RERANKER_SERVER)  # type: ignore[arg-type]
        except RerankError as exc:
            if isinstance(exc.__cause__, httpx.TimeoutException):    # the deadline ran out on any of the requests
                raise RerankTimeoutError(f"reranker timed out after {budget:.2f}s: {exc}", timeout_s=budget) from exc
            raise
        finally:
            self._http.set_deadline(None)
        return parse_rerank_response(response, len(docs))

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._client.close()

    def __enter__(self) -> VLLMReranker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- helpers -----------------------------------------------------------------------------------------------

    def _payload(self, query: str, docs: list[str], instruction: str | None) -> dict[str, Any]:
        if self._format_prompts:
            return {"model": self._model, "query": format_query(query, instruction),
                    "documents": [format_document(d) for d in docs], "top_n": len(docs)}
        payload: dict[str, Any] = {"model": self._model, "query": query, "documents": docs, "top_n": len(docs)}
        if instruction is not None:
            payload["instruct"] = instruction
        return payload


def parse_rerank_response(response: httpx.Response, n: int) -> list[float]:
    """Scores in input order from a vLLM (``{"results": [{index, relevance_score}]}``) or SGLang (bare list of
    ``{index, score}``) rerank response; anything else -> non-retriable ``RerankError``."""
    try:
        body = response.json()
    except ValueError as exc:
        raise RerankError(f"reranker returned non-JSON: {response.text[:200]!r}", retriable=False) from exc
    items = body.get("results") if isinstance(body, dict) else body
    if not isinstance(items, list):
        raise RerankError(f"reranker response has no results list: {str(body)[:200]}", retriable=False)
    if len(items) != n:
        raise RerankError(f"reranker returned {len(items)} results for {n} documents", retriable=False)
    scores: list[float | None] = [None] * n
    for item in items:
        if not isinstance(item, dict):
            raise RerankError(f"reranker result is not an object: {str(item)[:200]}", retriable=False)
        index = item.get("index")
        score = item.get("relevance_score", item.get("score"))
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < n:
            raise RerankError(f"reranker result has a bad index {index!r} (n={n})", retriable=False)
        if not isinstance(score, (int, float)) or isinstance(score, bool) or not math.isfinite(score):
            raise RerankError(f"reranker result {index} has a bad score {score!r}", retriable=False)
        if scores[index] is not None:
            raise RerankError(f"reranker returned index {index} twice", retriable=False)
        scores[index] = float(score)
    return scores  # type: ignore[return-value]   # n distinct indices in range(n): all filled
