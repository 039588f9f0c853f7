"""The ``openai`` SDK's exceptions mapped once into ``EmbeddingError`` / ``InputTooLongError``.

The SDK runs with ``max_retries=0`` (retries live in ``ingest.retry`` only), so every failure reaches this mapping:
timeouts and connection errors -> retriable; HTTP 429 and 5xx -> retriable; an over-long input (413, or 400/422
whose message says so, ``adapters.http.says_too_long``) -> ``InputTooLongError``; other 4xx -> not retriable, with
the server's message (``adapters.http.server_message``, the same wording as the httpx paths).
"""

from __future__ import annotations

import openai

from catalog_search.adapters.http import says_too_long, server_message
from catalog_search.core.errors import EmbeddingError, InputTooLongError

SERVER = "embedding server"


def map_sdk_error(exc: openai.OpenAIError, url: str, offset: int, count: int) -> EmbeddingError:
    """The error to raise (``from exc``) for a failed request carrying inputs ``offset .. offset + count - 1``."""
    if isinstance(exc, openai.APITimeoutError):       # before APIConnectionError, its base class
        return EmbeddingError(f"{SERVER} timed out ({url}): {exc.__cause__!r}", retriable=True)
    if isinstance(exc, openai.APIConnectionError):
        return EmbeddingError(f"{SERVER} unreachable ({url}): {exc.__cause__!r}", retriable=True)
    if isinstance(exc, openai.APIStatusError):
        status, message = exc.status_code, server_message(exc.response)
        if status == 429 or status >= 500:
            return EmbeddingError(f"{SERVER} HTTP {status} ({url}): {message}", retriable=True)
        if says_too_long(status, message):
            where = f"input {offset}" if count == 1 else f"one of inputs {offset}..{offset + count - 1}"
            return InputTooLongError(f"{where} is too long for the model: HTTP {status}: {message}",
                                     index=offset if count == 1 else None)
        return EmbeddingError(f"{SERVER} rejected the request, HTTP {status} ({url}): {message}", retriable=False)
    return EmbeddingError(f"{SERVER} request failed ({url}): {exc}", retriable=False)   # SDK-side, e.g. bad options
