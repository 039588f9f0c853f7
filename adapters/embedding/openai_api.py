"""Embedding backend for OpenAI-compatible servers (vLLM, SGLang) serving Qwen3-Embedding, via the ``openai`` SDK.

* One ``openai.OpenAI`` client (``max_retries=0``: retries live in ``ingest.retry`` only) calls
  ``embeddings.create(model, input, dimensions, encoding_format="float")`` - ``dimensions`` is the Matryoshka
  truncation done by the server; ``batch_size`` texts per request, up to ``max_concurrency`` requests in flight
  (a thread pool sharing the client). Results come back in input order, L2-normalised.
* The answer is read raw (``with_raw_response``) and validated by ``adapters.embedding.response``: the SDK builds
  its response models without validation, so a short, duplicated or wrong-sized answer would otherwise pass.
* Client-side truncation keeps the FIRST ``max_input_tokens`` tokens of a text, measured with vLLM's ``/tokenize``
  and ``/detokenize`` where the server has them (``adapters.truncation``; httpx, the SDK has no such endpoints).
  SDK and truncator share one ``httpx.Client`` (its connection pool is sized for ``max_concurrency``).
* The SDK's errors are mapped once (``adapters.embedding.sdk_errors``): timeouts, connection errors, HTTP 429 and
  5xx -> ``EmbeddingError(retriable=True)``; an over-long input -> ``InputTooLongError`` (with its index when the
  batch held one text); other 4xx -> ``EmbeddingError(retriable=False)`` carrying the server's message.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import httpx
import numpy as np
import openai

from catalog_search.adapters.embedding.response import parse_embeddings
from catalog_search.adapters.embedding.sdk_errors import map_sdk_error
from catalog_search.adapters.truncation import TokenTruncator
from catalog_search.core.errors import EmbeddingError
from catalog_search.core.settings import DEFAULT_QUERY_INSTRUCTION, QWEN3_QUERY_TEMPLATE

if TYPE_CHECKING:
    from catalog_search.core.settings import Settings


class OpenAIEmbedder:
    """``Embedder`` for ``/v1/embeddings`` of vLLM or SGLang (see the module docstring)."""

    def __init__(
        self,
        base_url: str,
        model: str,
        dim: int = 1024,
        *,
        api_key: str = "",
        batch_size: int = 32,
        max_concurrency: int = 4,
        timeout_s: float = 30.0,
        max_input_tokens: int | None = 1024,
        query_instruction: str = DEFAULT_QUERY_INSTRUCTION,
        query_template: str = QWEN3_QUERY_TEMPLATE,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be >= 1")
        if dim < 1:
            raise ValueError("dim must be >= 1")
        if max_input_tokens is not None and max_input_tokens < 1:
            raise ValueError("max_input_tokens must be >= 1 or None (no client-side truncation)")
        if "{query}" not in query_template:
            raise ValueError("query_template must contain {query}")
        self._base_url = base_url.rstrip("/")
        self._model = model
        self._dim = dim
        self._batch_size = batch_size
        self._max_concurrency = max_concurrency
        self._query_instruction = query_instruction
        self._query_template = query_template
        limits = httpx.Limits(max_connections=max_concurrency + 2, max_keepalive_connections=max_concurrency + 2)
        # ``transport`` is for tests and fault injection (httpx.MockTransport); the SDK sends through this client.
        # The vLLM-only /tokenize + /detokenize calls of the truncator go straight through it: they need the key too.
        headers = {"Accept": "application/json", **({"Authorization": f"Bearer {api_key}"} if api_key else {})}
        self._client = httpx.Client(headers=headers, timeout=httpx.Timeout(timeout_s), limits=limits,
                                    transport=transport)
        # The SDK refuses an empty key; vLLM started without --api-key ignores the header, so "EMPTY" (vLLM's own
        # convention) stands in. Passing a key always also keeps the SDK from reading OPENAI_API_KEY instead.
        self._openai = openai.OpenAI(base_url=self._base_url, api_key=api_key or "EMPTY", timeout=timeout_s,
                                     max_retries=0, http_client=self._client)
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._truncator = TokenTruncator(self._client, self._base_url, model, max_input_tokens)
        self._closed = False

    @classmethod
    def from_settings(cls, settings: Settings, *, transport: httpx.BaseTransport | None = None) -> OpenAIEmbedder:
        return cls(
            base_url=settings.embed.base_url,
            model=settings.embed.model,
            dim=settings.embed.vector_dim,
            api_key=settings.embed.api_key.get_secret_value(),
            batch_size=settings.embed.batch_size,
            max_concurrency=settings.embed.max_concurrency,
            timeout_s=settings.embed.timeout_s,
            max_input_tokens=settings.embed.max_input_tokens,
            query_instruction=settings.embed.query_instruction,
            query_template=settings.embed.query_template,
            transport=transport,
        )

    # -- Embedder protocol -------------------------------------------------------------------------------------

    @property
    def model_id(self) -> str:
        return self._model

    @property
    def dim(self) -> int:
        return self._dim

    def embed_documents(self, texts: Sequence[str], *, timeout_s: float | None = None) -> np.ndarray:
        return self._embed(list(texts), timeout_s)

    def embed_queries(self, texts: Sequence[str], *, timeout_s: float | None = None) -> np.ndarray:
        return self._embed([self.format_query(t) for t in texts], timeout_s)

    def format_query(self, query: str) -> str:
        return self._query_template.format(instruction=self._query_instruction, query=query)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
        self._openai.close()            # closes the shared httpx client as well

    def __enter__(self) -> OpenAIEmbedder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- batching ----------------------------------------------------------------------------------------------

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._closed:
                raise EmbeddingError("embedder is closed", retriable=False)
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=self._max_concurrency, thread_name_prefix="embed")
            return self._pool

    def _embed(self, texts: list[str], timeout_s: float | None = None) -> np.ndarray:
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise EmbeddingError(f"input {i} is {type(t).__name__}, not str", retriable=False)
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        starts = list(range(0, len(texts), self._batch_size))
        if len(starts) == 1 or self._max_concurrency == 1:
            parts = [self._embed_batch(texts[s:s + self._batch_size], s, timeout_s) for s in starts]
        else:
            pool = self._executor()
            futures = [pool.submit(self._embed_batch, texts[s:s + self._batch_size], s, timeout_s) for s in starts]
            try:
                parts = [f.result() for f in futures]   # re-raises the first failed batch, in input order
            finally:
                for f in futures:
                    f.cancel()
        return np.concatenate(parts, axis=0) if len(parts) > 1 else parts[0]

    def _embed_batch(self, texts: list[str], offset: int, timeout_s: float | None = None) -> np.ndarray:
        texts = [self._truncator.truncate(t) for t in texts]
        # a per-call ``timeout_s`` (a search's share of its deadline) replaces the client's for this request
        options = {} if timeout_s is None else {"timeout": max(timeout_s, 0.001)}
        try:
            raw = self._openai.embeddings.with_raw_response.create(
                model=self._model, input=texts, dimensions=self._dim, encoding_format="float", **options)
        except openai.OpenAIError as exc:
            raise map_sdk_error(exc, f"{self._base_url}/embeddings", offset, len(texts)) from exc
        except RuntimeError as exc:     # httpx: the client is closed (close() ran); repeating would fail the same way
            raise EmbeddingError(f"embedding request failed: {exc}", retriable=False) from exc
        return parse_embeddings(raw.http_response, len(texts), self._dim)
