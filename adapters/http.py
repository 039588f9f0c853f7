"""Error mapping for the httpx requests to vLLM-only endpoints (``/tokenize``, ``/detokenize``, ``/v1/rerank``).

``/v1/embeddings`` goes through the ``openai`` SDK instead (``adapters.embedding.openai_api``), which reuses
``server_message`` and ``says_too_long`` so both paths word and class errors alike.

Connection errors, timeouts, HTTP 429 and 5xx -> ``errors.error(retriable=True)``; other 4xx ->
``errors.error(retriable=False)`` carrying the server's message; an over-long input (HTTP 413, or 400/422 whose
message says so) -> ``errors.too_long`` when the kind of server has one. ``ServerErrors`` names the kind of server
and its error classes: the embedder's tokenizer requests use ``EMBEDDING_SERVER``, the reranker its own
(``reranking.vllm``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import httpx

from catalog_search.core.errors import BackendError, EmbeddingError, InputTooLongError


@dataclass(frozen=True)
class ServerErrors:
    """How failures of one kind of server are worded (``server``) and classed."""

    server: str
    error: type[BackendError]
    too_long: type[BackendError] | None = None      # constructed with the message only


EMBEDDING_SERVER = ServerErrors("embedding server", EmbeddingError, InputTooLongError)

_TOO_LONG = re.compile(
    r"maximum context length|context length|too long|longer than|exceeds? (?:the |this )?(?:max|limit)|max_model_len"
    r"|input_tokens|input_text",
    re.IGNORECASE,
)


def says_too_long(status: int, message: str) -> bool:
    """Whether an error answer means "the input is longer than the model accepts" (413, or 400/422 saying so)."""
    return status == 413 or (status in (400, 422) and _TOO_LONG.search(message) is not None)


def server_message(response: httpx.Response) -> str:
    """The error text of an OpenAI-style error body (``{"error": {"message": ...}}``), else the raw body."""
    try:
        body = response.json()
    except ValueError:              # JSONDecodeError, UnicodeDecodeError
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


def send(client: httpx.Client, url: str, payload: dict[str, Any],
         errors: ServerErrors = EMBEDDING_SERVER) -> httpx.Response:
    """POST ``payload`` as JSON, mapping transport failures (the HTTP status is checked by ``check_status``).

    A timeout keeps the ``httpx.TimeoutException`` as ``__cause__``, so a caller can tell it apart."""
    try:
        return client.post(url, json=payload)
    except httpx.TimeoutException as exc:
        raise errors.error(f"{errors.server} timed out ({url}): {exc!r}", retriable=True) from exc
    except httpx.TransportError as exc:   # connect errors, resets, protocol errors
        raise errors.error(f"{errors.server} unreachable ({url}): {exc!r}", retriable=True) from exc
    except RuntimeError as exc:           # the client was closed concurrently
        raise errors.error(f"{errors.server} request failed ({url}): {exc}", retriable=False) from exc


def check_status(response: httpx.Response, url: str, errors: ServerErrors = EMBEDDING_SERVER) -> httpx.Response:
    """Return a 2xx/3xx response; map any other status to the error hierarchy."""
    status = response.status_code
    if status < 400:
        return response
    message = server_message(response)
    if status == 429 or status >= 500:
        raise errors.error(f"{errors.server} HTTP {status} ({url}): {message}", retriable=True)
    if errors.too_long is not None and says_too_long(status, message):
        raise errors.too_long(f"HTTP {status}: {message}")
    raise errors.error(f"{errors.server} rejected the request, HTTP {status} ({url}): {message}", retriable=False)


def post(client: httpx.Client, url: str, payload: dict[str, Any],
         errors: ServerErrors = EMBEDDING_SERVER) -> httpx.Response:
    """``send`` and ``check_status``: a successful response or a mapped error."""
    return check_status(send(client, url, payload, errors), url, errors)
