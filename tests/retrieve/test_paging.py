"""Page tokens (pure): bound to their request, tamper-evident, and a start that neither repeats nor skips."""

from __future__ import annotations

import base64
import json
from dataclasses import replace

import pytest

from catalog_search.core.filters import CategoryFilter, SearchFilters
from catalog_search.retrieve.domain import FacetRequest, InvalidRequest, SearchRequest
from catalog_search.retrieve.paging import Cursor, PageTokens, page_start

REQ = SearchRequest(query="running shoes", page_size=5, sort="price_asc", group_by="group_id",
                    filters=SearchFilters(brands=("Nike",), categories=(CategoryFilter("Apparel"),)))
TOKENS = PageTokens("s3cret")


def _invalid(token: str, req: SearchRequest = REQ, tokens: PageTokens = TOKENS) -> str:
    with pytest.raises(InvalidRequest) as err:
        tokens.decode(token, req)
    assert err.value.field == "page_token"
    return str(err.value)


def test_a_token_round_trips_for_its_request_and_tolerates_page_size_and_facet_changes() -> None:
    cursor = Cursor(10, "G-7", (19.9, "EN-APP-0003"))
    token = TOKENS.encode(cursor, REQ)
    assert token.isascii() and len(token) < 200 and "EN-APP" not in token
    assert TOKENS.decode(token, REQ) == cursor
    assert TOKENS.decode(token, replace(REQ, page_size=50, facets=(FacetRequest("brand"),), top_k=3)) == cursor
    plain = TOKENS.encode(Cursor(3, "x"), REQ)
    assert TOKENS.decode(plain, REQ) == Cursor(3, "x", None)


@pytest.mark.parametrize("change", [
    {"query": "running shoe"}, {"sort": "price_desc"}, {"group_by": None}, {"rerank": False}, {"candidates": 50},
    {"fusion": "rrf"}, {"alpha": 0.5}, {"retrievers": "bm25"}, {"instruction": "x"},
    {"filters": SearchFilters(brands=("Nike", "Adidas"), categories=(CategoryFilter("Apparel"),))},
    {"filters": SearchFilters(brands=("Nike",), categories=(CategoryFilter("Apparel", prefix=False),))},
    {"filters": SearchFilters(brands=("Nike",), categories=(CategoryFilter("Apparel"),), in_stock_only=True)},
    {"filters": SearchFilters(brands=("Nike",), categories=(CategoryFilter("Apparel"),), tenant="outlet")},
])
def test_a_token_of_another_query_filter_or_option_is_refused(change: dict) -> None:
    token = TOKENS.encode(Cursor(5, "a"), REQ)
    assert "does not belong to this query" in _invalid(token, replace(REQ, **change))


def test_tampered_forged_and_garbage_tokens_are_refused() -> None:
    token = TOKENS.encode(Cursor(5, "a"), REQ)
    body, mac = token.split(".")
    forged_body = base64.urlsafe_b64encode(json.dumps({"o": 500, "a": "a"}).encode()).rstrip(b"=").decode()
    for bad in (body[:-1] + ("A" if body[-1] != "A" else "B") + "." + mac,        # one character of the body
                body + "." + mac[:-1] + ("A" if mac[-1] != "A" else "B"),        # one character of the MAC
                forged_body + "." + mac, body, "." + mac, "", "x.y", "é.é", token + "x",
                "%%%.%%%", "a" * 1025):
        _invalid(bad)
    assert "does not belong" in _invalid(token, REQ, PageTokens("another secret"))
    assert PageTokens().decode(PageTokens().encode(Cursor(1, "z"), REQ), REQ) == Cursor(1, "z")
    assert "does not belong" in _invalid(PageTokens().encode(Cursor(1, "z"), REQ))     # built-in key != s3cret


def test_a_signed_but_malformed_payload_is_refused() -> None:
    tokens = PageTokens("k")
    for payload in ({"o": -1, "a": ""}, {"o": "3", "a": ""}, {"a": "x"}, {"o": 1, "a": 5}, {"o": 1, "a": "", "k": 3},
                    [1, 2], {"o": True, "a": ""}):
        body = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
        token = f"{body}.{base64.urlsafe_b64encode(tokens._mac(REQ, body)).rstrip(b'=').decode()}"
        assert "malformed" in _invalid(token, REQ, tokens)


IDS = ["a", "b", "c", "d", "e", "f"]


def test_start_after_the_anchor_under_relevance_else_at_the_offset() -> None:
    keys = [None] * len(IDS)
    assert page_start(IDS, keys, None) == 0
    assert page_start(IDS, keys, Cursor(2, "b")) == 2
    # a product inserted before the anchor since the last page: no repeat, no skip
    assert page_start(["new", *IDS], keys + [None], Cursor(2, "b")) == 3
    assert page_start(["a", "c", "d"], keys[:3], Cursor(2, "b")) == 2                 # the anchor left: the offset
    assert page_start(["a"], keys[:1], Cursor(4, "gone")) == 1                        # never beyond the end


def test_start_after_the_sort_key_under_a_value_sort_whatever_changed() -> None:
    keys = [(1.0, "a"), (2.0, "b"), (2.0, "c"), (5.0, "d")]
    ids = ["a", "b", "c", "d"]
    assert page_start(ids, keys, Cursor(2, "b", (2.0, "b"))) == 2
    # "b" got cheaper and "x" appeared before it between the pages: the key decides, not positions
    assert page_start(["b", "x", "a", "c", "d"], [(0.5, "b"), (0.9, "x"), (1.0, "a"), (2.0, "c"), (5.0, "d")],
                      Cursor(2, "b", (2.0, "b"))) == 3
    assert page_start(ids, keys, Cursor(4, "d", (5.0, "d"))) == 4
