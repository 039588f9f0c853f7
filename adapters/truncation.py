"""Client-side truncation that keeps the FIRST ``max_input_tokens`` tokens of a text.

(vLLM's own ``truncate_prompt_tokens`` keeps the last ones, which would drop a product's title.) A text whose UTF-8
size already proves it fits is sent as is; a longer one is measured with the server's ``/tokenize`` and cut with
``/detokenize`` (vLLM serves both at the server root, not under ``/v1``). Where those endpoints are missing (SGLang
builds without them) a conservative character bound is used instead.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import httpx

from catalog_search.adapters.http import EMBEDDING_SERVER, ServerErrors, check_status, send
from catalog_search.core.utf8 import utf8_prefix

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


class TokenTruncator:
    """Cuts texts to ``max_input_tokens`` (None: never) with the tokenizer endpoints of the server at ``base_url``.

    ``tokenizer_available`` is None until the endpoints were used, then True, or False once they proved missing
    (remembered: no further requests). Shared by the embedder's threads.
    """

    def __init__(self, client: httpx.Client, base_url: str, model: str, max_input_tokens: int | None,
                 errors: ServerErrors = EMBEDDING_SERVER) -> None:
        self._client = client
        self._errors = errors
        # /tokenize and /detokenize live at the server root: strip a trailing /v1 from the base URL.
        self._root_url = re.sub(r"/v1$", "", base_url.rstrip("/"))
        self._model = model
        self._max_input_tokens = max_input_tokens
        self.tokenizer_available: bool | None = None
        self._special_tokens: int | None = None

    def truncate(self, text: str) -> str:
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
        if self.tokenizer_available is not False:
            cut = self._truncate_with_server(text, budget)
            if cut is not None:
                return cut
        return utf8_prefix(text, max(1, (budget - specials) * _FALLBACK_BYTES_PER_TOKEN))

    def _tokenizer_post(self, path: str, payload: dict[str, Any], key: str, kind: type) -> Any:
        """``body[key]`` of a /tokenize or /detokenize answer; None (remembered) when the server lacks them."""
        url = f"{self._root_url}{path}"
        response = send(self._client, url, {"model": self._model, **payload}, self._errors)
        if response.status_code in (404, 405, 501):
            self._tokenizer_unavailable(f"{url} answered HTTP {response.status_code}")
            return None
        check_status(response, url, self._errors)
        try:
            value = response.json()[key]
        except (ValueError, KeyError, TypeError):   # ValueError: JSONDecodeError, UnicodeDecodeError
            value = None
        if not isinstance(value, kind):
            self._tokenizer_unavailable(f"{url} answered an unexpected body {response.text[:200]!r}")
            return None
        self.tokenizer_available = True
        return value

    def _tokenizer_unavailable(self, why: str) -> None:
        if self.tokenizer_available is not False:
            log.warning("no usable tokenizer endpoint (%s); truncating by a character bound instead", why)
        self.tokenizer_available = False

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
