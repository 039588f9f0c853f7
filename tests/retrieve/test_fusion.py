"""RRF and weighted fusion (pure)."""

from __future__ import annotations

import math

import pytest

from catalog_search.retrieve.fusion import Candidate, min_max, ranks, rrf, weighted


def test_rrf_sums_reciprocal_ranks_with_k_60() -> None:
    out = rrf({"dense": [("a", 0.9), ("b", 0.8), ("c", 0.1)], "bm25": [("b", 12.0), ("d", 3.0)]})
    assert [c.sku for c in out] == ["b", "a", "d", "c"]
    by = {c.sku: c for c in out}
    assert by["b"].fused == pytest.approx(1 / 62 + 1 / 61)
    assert by["a"].fused == pytest.approx(1 / 61)
    assert by["d"].fused == pytest.approx(1 / 62)
    assert (by["b"].dense, by["b"].bm25) == (0.8, 12.0)
    assert (by["a"].dense, by["a"].bm25) == (0.9, None)
    assert (by["d"].dense, by["d"].bm25) == (None, 3.0)


def test_rrf_k_changes_the_weight_of_top_ranks() -> None:
    lists = {"x": [("a", 3.0), ("b", 2.0), ("c", 1.0)], "y": [("c", 3.0), ("b", 2.0), ("a", 1.0)]}
    assert {c.sku: c.fused for c in rrf(lists, k=0)}["b"] == pytest.approx(1.0)
    assert [c.sku for c in rrf(lists, k=0)] == ["a", "c", "b"]


def test_equal_scores_share_a_rank_so_backend_tie_order_does_not_matter() -> None:
    assert ranks([("a", 5.0), ("b", 5.0), ("c", 4.0), ("d", 4.0), ("e", 1.0)]) == {
        "a": 1, "b": 1, "c": 3, "d": 3, "e": 5}
    one = rrf({"bm25": [("x", 2.0), ("y", 2.0)], "dense": [("y", 0.5)]})
    two = rrf({"bm25": [("y", 2.0), ("x", 2.0)], "dense": [("y", 0.5)]})
    assert one == two
    assert [c.sku for c in rrf({"d": [("b", 1.0), ("a", 1.0)]})] == ["a", "b"]     # ties broken by sku


def test_unsorted_input_is_ranked_by_score() -> None:
    assert [c.sku for c in rrf({"d": [("low", 0.1), ("high", 0.9)]})] == ["high", "low"]


def test_empty_lists() -> None:
    assert rrf({"dense": [], "bm25": []}) == []
    assert weighted([], []) == []
    assert [c.sku for c in rrf({"dense": [("a", 1.0)], "bm25": []})] == ["a"]


def test_invalid_input() -> None:
    with pytest.raises(ValueError):
        rrf({"d": [("a", 1.0), ("a", 0.5)]})
    with pytest.raises(ValueError):
        rrf({"d": [("a", math.nan)]})
    with pytest.raises(ValueError):
        weighted([("a", 1.0)], [], alpha=1.1)
    with pytest.raises(ValueError):
        rrf({}, k=-1)


def test_min_max() -> None:
    assert min_max([("a", 10.0), ("b", 5.0), ("c", 0.0)]) == {"a": 1.0, "b": 0.5, "c": 0.0}
    assert min_max([("a", 3.0), ("b", 3.0)]) == {"a": 1.0, "b": 1.0}
    assert min_max([]) == {}


def test_weighted_normalises_each_list_and_weights_the_dense_side_by_alpha() -> None:
    dense = [("a", 0.9), ("b", 0.7), ("c", 0.5)]
    bm25 = [("c", 20.0), ("b", 10.0)]
    out = {c.sku: c for c in weighted(dense, bm25, alpha=0.5)}
    assert out["a"].fused == pytest.approx(0.5 * 1.0)
    assert out["b"].fused == pytest.approx(0.5 * 0.5 + 0.5 * 0.0)
    assert out["c"].fused == pytest.approx(0.5 * 0.0 + 0.5 * 1.0)
    assert (out["c"].dense, out["c"].bm25) == (0.5, 20.0)
    assert [c.sku for c in weighted(dense, bm25, alpha=1.0)] == ["a", "b", "c"]
    assert [c.sku for c in weighted(dense, bm25, alpha=0.0)][0] == "c"
    assert all(isinstance(c, Candidate) for c in weighted(dense, bm25))
