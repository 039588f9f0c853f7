"""The searcher's spelling correction (BM25 side only), request ids and query-log records, on the in-memory store."""

from __future__ import annotations

import time
from typing import Any

from catalog_search.retrieve.domain import SearchRequest
from catalog_search.retrieve.querylog import QueryLogRecord
from catalog_search.retrieve.spelling import Speller
from tests.retrieve.test_searcher_memory import _searcher, _store


class Collected:
    def __init__(self) -> None:
        self.records: list[QueryLogRecord] = []
        self.closed = False

    def publish(self, record: QueryLogRecord) -> None:
        self.records.append(record)

    def close(self) -> None:
        self.closed = True


def _spelling(**kw: Any):
    store = _store()
    speller = Speller(store, known=frozenset({"for"}))
    speller.build(store.resolve_alias())
    return _searcher(store, speller=speller, **kw), store


def test_a_misspelled_query_searches_the_corrected_terms_on_the_bm25_side() -> None:
    searcher, _ = _spelling(spell_default=True)
    resp = searcher.search(SearchRequest(query="cordles dril", top_k=3, rerank=False))
    assert resp.corrected_query == "cordless drill"
    assert resp.hits[0].sku == "P1" and resp.hits[0].scores.bm25 is not None
    assert "spell" in resp.timings_ms
    plain = searcher.search(SearchRequest(query="cordles dril", top_k=3, rerank=False, spell_correct=False))
    assert plain.corrected_query == "" and all(h.scores.bm25 is None for h in plain.hits)   # BM25 finds nothing
    assert "spell" not in plain.timings_ms
    dense = {h.sku: h.scores.dense for h in resp.hits if h.scores.dense is not None}
    plain_dense = {h.sku: h.scores.dense for h in plain.hits}
    common = dense.keys() & plain_dense.keys()
    assert common and all(plain_dense[sku] == dense[sku] for sku in common)     # dense embeds what was typed


def test_the_server_default_and_the_request_decide() -> None:
    searcher, _ = _spelling(spell_default=False)
    assert searcher.search(SearchRequest(query="cordles", rerank=False)).corrected_query == ""
    assert searcher.search(SearchRequest(query="cordles", rerank=False, spell_correct=True)).corrected_query == \
        "cordless"
    assert searcher.search(SearchRequest(query="cordless drill", rerank=False, spell_correct=True)) \
        .corrected_query == ""                                      # nothing to correct
    dense_only = SearchRequest(query="cordles", rerank=False, spell_correct=True, retrievers="dense")
    assert searcher.search(dense_only).corrected_query == ""         # no BM25 side, nothing corrected


def test_without_a_vocabulary_yet_the_search_answers_uncorrected_and_one_is_built() -> None:
    store = _store()
    searcher = _searcher(store, speller=Speller(store, known=frozenset()), spell_default=True)
    first = searcher.search(SearchRequest(query="cordles drill", rerank=False))
    assert first.hits and first.corrected_query in ("", "cordless drill")
    deadline = time.monotonic() + 5
    while searcher.search(SearchRequest(query="cordles drill", rerank=False)).corrected_query != "cordless drill":
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_every_answered_search_has_a_request_id_and_one_query_log_record() -> None:
    qlog = Collected()
    searcher, store = _spelling(spell_default=True, query_log=qlog)
    responses = [searcher.search(SearchRequest(query=q, top_k=2, rerank=False))
                 for q in ("cordles drill", "coffee", "garden hose")]
    assert len({r.request_id for r in responses}) == 3 and all(len(r.request_id) == 32 for r in responses)
    assert [r.request_id for r in qlog.records] == [r.request_id for r in responses]
    first, resp = qlog.records[0], responses[0]
    assert (first.query, first.corrected_query, first.collection) == ("cordles drill", "cordless drill", "live")
    assert first.skus == [h.sku for h in resp.hits] and [h.score for h in first.hits] == [h.score for h in resp.hits]
    assert first.timings_ms == resp.timings_ms and first.options["top_k"] == 2 and first.options["rerank"] is False
    assert first.request() == SearchRequest(query="cordles drill", top_k=2, rerank=False)
    searcher.close()
    assert qlog.closed
