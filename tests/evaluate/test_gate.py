"""The reindex gate's decision and its judged-set loading (pure parts; the scoring runs in the reindex e2e)."""

from __future__ import annotations

import pytest

from catalog_search.evaluate.data import EvalDataError
from catalog_search.evaluate.gate import DEFAULT_SEARCH, GateResult, JudgedSet, passes
from catalog_search.retrieve.domain import SearchRequest


@pytest.mark.parametrize("before, after, max_drop, ok", [
    (0.50, 0.50, 0.0, True),
    (0.50, 0.60, 0.0, True),
    (0.50, 0.49, 0.0, False),
    (0.50, 0.49, 0.02, True),
    (0.50, 0.47, 0.02, False),
    (0.3, 0.1 + 0.2, 0.0, True),          # float noise is not a regression
])
def test_new_must_be_at_least_old_minus_max_drop(before, after, max_drop, ok):
    assert passes(before, after, max_drop) is ok


def test_negative_max_drop_is_refused():
    with pytest.raises(ValueError):
        passes(0.5, 0.5, -0.1)


def test_gate_result_reports_both_sides():
    result = GateResult({"ndcg@10": 0.8, "queries": 5}, {"ndcg@10": 0.61234, "queries": 5}, 0.1)
    assert not result.passed
    assert result.as_dict()["ndcg@10_delta"] == pytest.approx(-0.1877)
    assert "FAILED" in result.summary() and "0.8000 -> 0.6123" in result.summary()


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
