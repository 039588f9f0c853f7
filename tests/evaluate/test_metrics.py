"""Metrics against hand-computed values (linear gains unless stated; unjudged = non-relevant)."""

from __future__ import annotations

import math

import pytest

from catalog_search.evaluate import metrics as M

JUDGED = {"a": 3, "b": 2, "c": 0, "d": 1}


def test_dcg_linear_and_exponential():
    assert M.dcg([3, 2, 1]) == pytest.approx(3 + 2 / math.log2(3) + 1 / 2)
    assert M.dcg([3, 2, 1], "exponential") == pytest.approx(7 + 3 / math.log2(3) + 1 / 2)


def test_ndcg_perfect_ranking_is_one():
    assert M.ndcg_at(["a", "b", "d", "c"], JUDGED) == pytest.approx(1.0)


def test_ndcg_hand_computed_with_unjudged():
    # ranking: x (unjudged -> 0), b (2), a (3)
    dcg = 0 + 2 / math.log2(3) + 3 / math.log2(4)
    ideal = 3 + 2 / math.log2(3) + 1 / math.log2(4)
    assert M.ndcg_at(["x", "b", "a"], JUDGED) == pytest.approx(dcg / ideal)
    assert M.ndcg_at(["x", "b", "a"], JUDGED) == pytest.approx(0.5800, abs=1e-4)


def test_ndcg_cuts_at_k():
    ranked = [f"u{i}" for i in range(10)] + ["a"]
    assert M.ndcg_at(ranked, JUDGED, k=10) == 0.0
    assert M.ndcg_at(["a"], {"a": 3, "b": 3}, k=1) == pytest.approx(1.0)   # ideal is cut at k too


def test_ndcg_exponential_gains():
    dcg = 3 / 1 + 7 / math.log2(3)     # b (2 -> 3), a (3 -> 7)
    ideal = 7 + 3 / math.log2(3) + 1 / 2
    assert M.ndcg_at(["b", "a"], JUDGED, gains="exponential") == pytest.approx(dcg / ideal)


def test_ndcg_without_relevant_is_zero():
    assert M.ndcg_at(["a"], {"a": 0}) == 0.0
    assert not M.has_relevant({"a": 0}) and M.has_relevant({"a": 0, "b": 1})


def test_recall_at_k():
    assert M.recall_at(["a", "x", "c"], JUDGED) == pytest.approx(1 / 3)     # relevant = a, b, d (grade >= 1)
    assert M.recall_at(["a", "b", "d"], JUDGED, k=2) == pytest.approx(2 / 3)
    assert M.recall_at(["a"], {"a": 0}) == 0.0


def test_mrr_at_k():
    assert M.mrr_at(["x", "c", "d"], JUDGED) == pytest.approx(1 / 3)      # c has grade 0: not relevant
    assert M.mrr_at(["a"], JUDGED) == 1.0
    assert M.mrr_at([f"u{i}" for i in range(10)] + ["a"], JUDGED) == 0.0


def test_query_metrics_keys():
    assert set(M.query_metrics(["a"], JUDGED)) == {"ndcg@10", "recall@100", "mrr@10"}


def test_percentile():
    assert M.percentile([], 50) == 0.0
    assert M.percentile([1, 2, 3, 4], 50) == pytest.approx(2.5)
    assert M.percentile(list(range(101)), 95) == pytest.approx(95)
    assert M.percentile([5], 95) == 5
