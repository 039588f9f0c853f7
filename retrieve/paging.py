"""Pages over the result set (pure): opaque, signed page tokens and where the next page starts.

A page token says where the previous page ended: how many units it had served (``offset``), the last unit served
(``anchor``: a group id or sku) and, under a value sort, that unit's sort key. It is bound to the request it came
from: an HMAC-SHA256 (truncated to 128 bits) over the request's fingerprint — query, filters, rerank, candidates,
instruction, fusion, alpha, retrievers, group_by and sort — and the token body. A token from another query, or any
changed character, fails the check: ``InvalidRequest("page_token")`` (INVALID_ARGUMENT). ``page_size`` and the facets
may change between pages. The key is ``CATALOG_SEARCH_PAGE_TOKEN_SECRET`` (the same on every replica); without one
a built-in key still binds tokens to their query but does not stop someone who has read this file from forging one
(a forged token can only pick another start inside the same result set).

Where the next page starts, so that walking the pages returns each unit of the result set exactly once:

* value sorts (price, newest): the first unit whose sort key is above the token's (keys are total: ties broken by
  sku) — exact even when products were added, removed or repriced between the page requests;
* relevance: right after the anchor in the new order; when the anchor left the result set, at ``offset``. This is
  exact while the relevance order is the same on every request (it is deterministic for a given catalog: fused
  ties are broken by sku, and a reranker scores the same documents the same way); a catalog change before the
  anchor neither repeats nor skips a unit; a rerank that degrades on one page and not on another can.

Pages end at the result set's end: the result depth bounds how deep a query can be paged.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from catalog_search.retrieve.domain import InvalidRequest, SearchRequest

TOKEN_MAX_CHARS = 1024
MAX_OFFSET = 1_000_000
_BUILTIN_KEY = b"catalog-search page token v1 (set CATALOG_SEARCH_PAGE_TOKEN_SECRET)"
_MAC_BYTES = 16
FIELD = "page_token"


@dataclass(frozen=True)
class Cursor:
    offset: int                          # units served by the pages before
    anchor: str = ""                     # the last unit served
    key: tuple[Any, ...] | None = None   # its sort key under a value sort


def fingerprint(req: SearchRequest) -> bytes:
    """What a token is bound to: everything that decides the result set and its order."""
    f = req.filters
    data = {
        "query": req.query, "rerank": req.rerank, "candidates": req.candidates, "instruction": req.instruction,
        "fusion": req.fusion, "alpha": req.alpha, "retrievers": req.retrievers, "group_by": req.group_by or "",
        "sort": req.sort,
        "filters": {"categories": [[c.path, c.prefix] for c in f.categories], "brands": list(f.brands),
                    "price_min": f.price_min, "price_max": f.price_max, "in_stock_only": f.in_stock_only,
                    "locale": f.locale, "tenant": f.tenant},
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
                          .encode("utf-8")).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PageTokens:
    """Signs and checks page tokens with one key (see the module docstring)."""

    def __init__(self, secret: str | bytes = b"") -> None:
        key = secret.encode("utf-8") if isinstance(secret, str) else secret
        self._key = key or _BUILTIN_KEY

    def _mac(self, req: SearchRequest, body: str) -> bytes:
        return hmac.new(self._key, fingerprint(req) + b"." + body.encode("ascii"), hashlib.sha256).digest()[:_MAC_BYTES]

    def encode(self, cursor: Cursor, req: SearchRequest) -> str:
        payload: dict[str, Any] = {"o": cursor.offset, "a": cursor.anchor}
        if cursor.key is not None:
            payload["k"] = list(cursor.key)
        body = _b64(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
        return f"{body}.{_b64(self._mac(req, body))}"

    def decode(self, token: str, req: SearchRequest) -> Cursor:
        """The cursor of ``token`` if it was made for ``req``; else ``InvalidRequest`` naming ``page_token``."""
        if not isinstance(token, str) or len(token) > TOKEN_MAX_CHARS:
            raise InvalidRequest(FIELD, f"is not a page token of this service (at most {TOKEN_MAX_CHARS} characters)")
        body, _, mac = token.partition(".")
        if not body.isascii() or not mac.isascii() or not body or \
                not hmac.compare_digest(mac, _b64(self._mac(req, body))):     # the canonical text: one per MAC
            raise InvalidRequest(FIELD, "does not belong to this query, its filters and options, or was altered: "
                                        "ask for the first page again without a page_token")
        try:
            payload = json.loads(_unb64(body))
            offset, anchor, key = payload["o"], payload["a"], payload.get("k")
        except (ValueError, KeyError, TypeError):
            raise InvalidRequest(FIELD, "is malformed") from None
        if isinstance(offset, bool) or not isinstance(offset, int) or not 0 <= offset <= MAX_OFFSET \
                or not isinstance(anchor, str) or not (key is None or isinstance(key, list)):
            raise InvalidRequest(FIELD, "is malformed")
        return Cursor(offset, anchor, None if key is None else tuple(key))


def page_start(ids: Sequence[str], keys: Sequence[tuple[Any, ...] | None], cursor: Cursor | None) -> int:
    """Index of the first unit of the page after ``cursor`` in the units' current order (``ids`` with their
    ascending sort ``keys``; all None under relevance)."""
    if cursor is None:
        return 0
    if cursor.key is not None and keys and keys[0] is not None:
        try:
            return bisect.bisect_right(list(keys), cursor.key)     # type: ignore[arg-type]
        except TypeError:                    # a key of another shape (cannot happen with a checked token)
            raise InvalidRequest(FIELD, "is malformed") from None
    if cursor.anchor:
        try:
            return list(ids).index(cursor.anchor) + 1
        except ValueError:
            pass
    return min(cursor.offset, len(ids))

