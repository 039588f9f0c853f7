"""The gate's default search and its judged-set loading (pure parts; the scoring runs in the reindex e2e)."""

from __future__ import annotations

import pytest

from catalog_search.evaluate.data import EvalDataError
from catalog_search.evaluate.gate import DEFAULT_SEARCH, JudgedSet
from catalog_search.retrieve.domain import SearchRequest


def test_default_search_uses_the_request_defaults():
    request = DEFAULT_SEARCH.request("drill")
    defaults = SearchRequest(query="drill")
    assert request.top_k == 100
    assert (request.fusion, request.rerank, request.candidates, request.retrievers) == \
        (defaults.fusion, defaults.rerank, defaults.candidates, defaults.retrievers)


def test_judged_set_needs_a_relevant_judgment(tmp_path):
    queries, qrels = tmp_path / "q.tsv", tmp_path / "r.tsv"
    queries.write_text("q1\tdrill\nq2\those\n", encoding="utf-8")
    qrels.write_text("q1\tA\t0\n", encoding="utf-8")
    with pytest.raises(EvalDataError, match="no query .* relevant"):
        JudgedSet.load(queries, qrels)
    qrels.write_text("q1\tA\t2\nq2\tB\t0\n", encoding="utf-8")
    assert JudgedSet.load(queries, qrels).judged_queries == ["q1"]
    qrels.write_text("q1\tA\n", encoding="utf-8")
    with pytest.raises(EvalDataError, match="r.tsv:1"):
        JudgedSet.load(queries, qrels)
