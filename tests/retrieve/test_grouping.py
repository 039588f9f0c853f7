"""Variant grouping (pure): one unit per group, in the order of its best member, every member kept in order."""

from __future__ import annotations

from catalog_search.retrieve.grouping import group, singletons


def test_groups_follow_their_best_member_and_keep_every_member_in_order() -> None:
    ranked = [("b2", "B"), ("a1", "A"), ("c1", "C"), ("a2", "A"), ("b1", "B"), ("a3", "A")]
    groups = group(ranked, key=lambda it: it[1])
    assert [g.key for g in groups] == ["B", "A", "C"]
    assert [[m[0] for m in g.members] for g in groups] == [["b2", "b1"], ["a1", "a2", "a3"], ["c1"]]
    assert [g.best[0] for g in groups] == ["b2", "a1", "c1"]
    assert sum(len(g.members) for g in groups) == len(ranked)


def test_nothing_to_group_and_singletons() -> None:
    assert group([], key=str) == []
    units = singletons(["x", "y", "x2"], key=lambda s: s)
    assert [(u.key, u.members) for u in units] == [("x", ("x",)), ("y", ("y",)), ("x2", ("x2",))]
