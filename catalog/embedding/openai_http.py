"""Embedding backend for OpenAI-compatible servers (vLLM, SGLang) serving Qwen3-Embedding.

* ``POST {base_url}/embeddings`` with ``dimensions`` (Matryoshka truncation done by the server) and
  ``encoding_format: float``; ``batch_size`` texts per request, up to ``max_concurrency`` requests in flight
  (a thread pool sharing one ``httpx.Client``); results come back in input order, L2-normalised.
* Client-side truncation keeps the FIRST ``max_input_tokens`` tokens of a text. (vLLM's own
  ``truncate_prompt_tokens`` keeps the last ones, which would drop a product's title.) A text whose UTF-8 size
  already proves it fits is sent as is; a longer one is measured with the server's ``/tokenize`` and cut with
  ``/detokenize`` (vLLM serves both at the server root, not under ``/v1``). Where those endpoints are missing
  (SGLang builds without them) a conservative character bound is used instead.
* Errors are mapped once: connection errors, timeouts, HTTP 429 and 5xx -> ``EmbeddingError(retriable=True)``;
  other 4xx -> ``EmbeddingError(retriable=False)`` carrying the server's message; an over-long input ->
  ``InputTooLongError``; a malformed response -> non-retriable ``EmbeddingError``. No retries here: the ingest
  layer decides.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import httpx
import numpy as np

from catalog.errors import EmbeddingError, InputTooLongError
from catalog.settings import DEFAULT_QUERY_INSTRUCTION, QWEN3_QUERY_TEMPLATE

if TYPE_CHECKING:
    from catalog.settings import Settings

log = logging.getLogger(__name__)

# Upper bound on characters per token used to cut a huge text before it is tokenized at all (real tokenizers
# average 1-5 characters per token; a longer average over a whole prefix does not occur in product text).
_MAX_CHARS_PER_TOKEN = 8
# Without a tokenizer endpoint: keep at most this many UTF-8 bytes per allowed token. English averages about
# four bytes per token and CJK about three (one character, sometimes two per token), so three is on the safe side.
_FALLBACK_BYTES_PER_TOKEN = 3
# Tokens kept in reserve when cutting: the decoded prefix may re-tokenize slightly differently at the cut.
_RETOKENIZE_SLACK = 2
# Tokens the server adds around a text (Qwen3-Embedding appends <|endoftext|>) when it cannot tell us.
_DEFAULT_SPECIAL_TOKENS = 2
_TOO_LONG = re.compile(
    r"maximum context length|context length|too long|longer than|exceeds? (?:the |this )?(?:max|limit)|max_model_len"
    r"|input_tokens|input_text",
    re.IGNORECASE,
)


def _server_message(response: httpx.Response) -> str:
    """The error text of an OpenAI-style error body (``{"error": {"message": ...}}``), else the raw body."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        return response.text[:500].strip() or response.reason_phrase
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict):
            msg = err.get("message") or err.get("detail") or err.get("msg")
            if msg:
                return str(msg)[:1000]
        elif isinstance(err, str):
            return err[:1000]
        if "detail" in body:
            return str(body["detail"])[:1000]
    return json.dumps(body)[:1000]


def _utf8_prefix(text: str, max_bytes: int) -> str:
    """The longest prefix of ``text`` whose UTF-8 encoding has at most ``max_bytes`` bytes (never splits a char)."""
    raw = text.encode("utf-8")
    if len(raw) <= max_bytes:
        return text
    return raw[:max(0, max_bytes)].decode("utf-8", errors="ignore")


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
        send_dimensions: bool = True,
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
        self._max_input_tokens = max_input_tokens
        self._query_instruction = query_instruction
        self._query_template = query_template
        self._send_dimensions = send_dimensions
        # /tokenize and /detokenize live at the server root: strip a trailing /v1 from the base URL.
        self._root_url = re.sub(r"/v1$", "", self._base_url)
        headers = {"Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        limits = httpx.Limits(max_connections=max_concurrency + 2, max_keepalive_connections=max_concurrency + 2)
        self._client = httpx.Client(headers=headers, timeout=httpx.Timeout(timeout_s), limits=limits,
                                    transport=transport)
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._tokenizer_available: bool | None = None   # None = not probed yet
        self._special_tokens: int | None = None
        self._closed = False

    @classmethod
    def from_settings(cls, settings: Settings, *, transport: httpx.BaseTransport | None = None) -> OpenAIEmbedder:
        return cls(
            base_url=settings.embed_base_url,
            model=settings.embed_model,
            dim=settings.dim,
            api_key=settings.embed_api_key,
            batch_size=settings.embed_batch_size,
            max_concurrency=settings.embed_max_concurrency,
            timeout_s=settings.embed_timeout_s,
            max_input_tokens=settings.embed_max_input_tokens,
            query_instruction=settings.query_instruction,
            query_template=settings.query_template,
            transport=transport,
        )

    # -- Embedder protocol -------------------------------------------------------------------------------------

    @property
    def model_id(self) -> str:
        return self._model

    @property
    def dim(self) -> int:
        return self._dim

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(list(texts))

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed([self.format_query(t) for t in texts])

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
        self._client.close()

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

    def _embed(self, texts: list[str]) -> np.ndarray:
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise EmbeddingError(f"input {i} is {type(t).__name__}, not str", retriable=False)
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        starts = list(range(0, len(texts), self._batch_size))
        if len(starts) == 1 or self._max_concurrency == 1:
            parts = [self._embed_batch(texts[s:s + self._batch_size], s) for s in starts]
        else:
            pool = self._executor()
            futures = [pool.submit(self._embed_batch, texts[s:s + self._batch_size], s) for s in starts]
            try:
                parts = [f.result() for f in futures]   # re-raises the first failed batch, in input order
            finally:
                for f in futures:
                    f.cancel()
        return np.concatenate(parts, axis=0) if len(parts) > 1 else parts[0]

    def _embed_batch(self, texts: list[str], offset: int) -> np.ndarray:
        texts = [self._truncate(t) for t in texts]
        payload: dict[str, Any] = {"model": self._model, "input": texts, "encoding_format": "float"}
        if self._send_dimensions:
            payload["dimensions"] = self._dim
        try:
            response = self._post(f"{self._base_url}/embeddings", payload)
        except InputTooLongError as exc:
            index = offset if len(texts) == 1 else None
            where = f"input {offset}" if len(texts) == 1 else f"one of inputs {offset}..{offset + len(texts) - 1}"
            raise InputTooLongError(f"{where} is too long for the model: {exc}", index=index) from exc
        return self._parse(response, len(texts))

    def _parse(self, response: httpx.Response, expected: int) -> np.ndarray:
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as exc:
            raise EmbeddingError(f"embedding server returned non-JSON (HTTP {response.status_code}): "
                                 f"{response.text[:200]!r}", retriable=False) from exc
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise EmbeddingError(f"malformed embedding response: no 'data' list in {str(body)[:200]}",
                                 retriable=False)
        if len(data) != expected:
            raise EmbeddingError(f"malformed embedding response: {len(data)} embeddings for {expected} inputs",
                                 retriable=False)
        out = np.empty((expected, self._dim), dtype=np.float32)
        seen = [False] * expected
        for pos, item in enumerate(data):
            if not isinstance(item, dict):
                raise EmbeddingError(f"malformed embedding response: item {pos} is not an object", retriable=False)
            idx = item.get("index", pos)
            if not isinstance(idx, int) or isinstance(idx, bool) or not 0 <= idx < expected or seen[idx]:
                raise EmbeddingError(f"malformed embedding response: bad or duplicate index {idx!r}",
                                     retriable=False)
            vec = item.get("embedding")
            if not isinstance(vec, list):
                raise EmbeddingError(f"malformed embedding response: item {idx} has no float list 'embedding' "
                                     "(base64 answer to encoding_format=float?)", retriable=False)
            if len(vec) != self._dim:
                raise EmbeddingError(f"embedding dimension mismatch: got {len(vec)}, expected {self._dim} "
                                     "(does the server honour 'dimensions' / is the model Matryoshka?)",
                                     retriable=False)
            try:
                row = np.asarray(vec, dtype=np.float32)
            except (TypeError, ValueError) as exc:
                raise EmbeddingError(f"malformed embedding response: item {idx} is not numeric",
                                     retriable=False) from exc
            norm = float(np.linalg.norm(row))
            if not math.isfinite(norm) or norm == 0.0:
                raise EmbeddingError(f"malformed embedding response: item {idx} has norm {norm}", retriable=False)
            out[idx] = row / norm
            seen[idx] = True
        return out

    # -- HTTP and error mapping --------------------------------------------------------------------------------

    def _send(self, url: str, payload: dict[str, Any]) -> httpx.Response:
        """POST, mapping transport failures (the HTTP status is checked by ``_check``)."""
        try:
            return self._client.post(url, json=payload)
        except httpx.TimeoutException as exc:
            raise EmbeddingError(f"embedding server timed out ({url}): {exc!r}", retriable=True) from exc
        except httpx.TransportError as exc:   # connect errors, resets, protocol errors
            raise EmbeddingError(f"embedding server unreachable ({url}): {exc!r}", retriable=True) from exc
        except RuntimeError as exc:           # the client was closed concurrently
            raise EmbeddingError(f"embedding request failed ({url}): {exc}", retriable=False) from exc

    @staticmethod
    def _check(response: httpx.Response, url: str) -> httpx.Response:
        """Return a 2xx/3xx response; map any other status to the error hierarchy."""
        status = response.status_code
        if status < 400:
            return response
        message = _server_message(response)
        if status == 429 or status >= 500:
            raise EmbeddingError(f"embedding server HTTP {status} ({url}): {message}", retriable=True)
        if status == 413 or (status in (400, 422) and _TOO_LONG.search(message)):
            raise InputTooLongError(f"HTTP {status}: {message}")
        raise EmbeddingError(f"embedding server rejected the request, HTTP {status} ({url}): {message}",
                             retriable=False)

    def _post(self, url: str, payload: dict[str, Any]) -> httpx.Response:
        return self._check(self._send(url, payload), url)

    # -- client-side truncation --------------------------------------------------------------------------------

    def _truncate(self, text: str) -> str:
        """Keep the first ``max_input_tokens`` tokens of ``text`` (see the module docstring)."""
        budget = self._max_input_tokens
        if budget is None:
            return text
        specials = self._special_tokens if self._special_tokens is not None else _DEFAULT_SPECIAL_TOKENS
        # A token covers at least one byte (byte-level BPE, SentencePiece with byte fallback), so a text of no
        # more UTF-8 bytes than the budget minus the special tokens surely fits: no request needed.
        if len(text.encode("utf-8")) <= budget - specials:
            return text
        text = text[:budget * _MAX_CHARS_PER_TOKEN]   # cheap bound before anything is sent
        if self._tokenizer_available is not False:
            cut = self._truncate_with_server(text, budget)
            if cut is not None:
                return cut
        return _utf8_prefix(text, max(1, (budget - specials) * _FALLBACK_BYTES_PER_TOKEN))

    def _tokenizer_post(self, path: str, payload: dict[str, Any], key: str, kind: type) -> Any:
        """``body[key]`` of a /tokenize or /detokenize answer; None (remembered) when the server lacks them."""
        url = f"{self._root_url}{path}"
        response = self._send(url, {"model": self._model, **payload})
        if response.status_code in (404, 405, 501):
            self._tokenizer_unavailable(f"{url} answered HTTP {response.status_code}")
            return None
        self._check(response, url)
        try:
            value = response.json()[key]
        except (json.JSONDecodeError, UnicodeDecodeError, ValueError, KeyError, TypeError):
            value = None
        if not isinstance(value, kind):
            self._tokenizer_unavailable(f"{url} answered an unexpected body {response.text[:200]!r}")
            return None
        self._tokenizer_available = True
        return value

    def _tokenizer_unavailable(self, why: str) -> None:
        if self._tokenizer_available is not False:
            log.warning("no usable tokenizer endpoint (%s); truncating by a character bound instead", why)
        self._tokenizer_available = False

    def _special_token_count(self) -> int | None:
        if self._special_tokens is None:
            tokens = self._tokenizer_post("/tokenize", {"prompt": "", "add_special_tokens": True}, "tokens", list)
            if tokens is None:
                return None
            self._special_tokens = len(tokens)
        return self._special_tokens

    def _truncate_with_server(self, text: str, budget: int) -> str | None:
        specials = self._special_token_count()
        if specials is None:
            return None
        tokens = self._tokenizer_post("/tokenize", {"prompt": text, "add_special_tokens": False}, "tokens", list)
        if tokens is None:
            return None
        if len(tokens) + specials <= budget:
            return text
        keep = budget - specials - _RETOKENIZE_SLACK
        if keep <= 0:
            return ""
        prompt = self._tokenizer_post("/detokenize", {"tokens": tokens[:keep]}, "prompt", str)
        if prompt is None:
            return None
        # A cut inside a multi-byte character decodes to U+FFFD, which would re-tokenize into more tokens.
        return prompt.rstrip("\ufffd")
