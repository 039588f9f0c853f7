"""Variant grouping (pure): one result unit per variant group, its best variant first.

Grouping runs on the final order of the result set — after fusion and rerank (or after a sort) — so a group's
representative is its best variant by the final score (by the sort key under a sort). A group is in the answer
when any of its variants matched the filters (filters apply to variants: every product in the result set matched).
``variant_count`` is how many of the group's variants are in the result set; variants outside it (beyond the
result depth, or filtered out) are not counted.

Milvus can group a single ANN search (``group_by_field``) but not after a model reranker, and Milvus Lite not at
all, so grouping is done here, on the result set.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Group(Generic[T]):
    key: str
    members: tuple[T, ...]          # in the order given: the first one represents the group

    @property
    def best(self) -> T:
        return self.members[0]


def group(items: Sequence[T], key: Callable[[T], str]) -> list[Group[T]]:
    """``items`` (best first) folded into groups by ``key``, groups in the order of their best member."""
    members: dict[str, list[T]] = {}
    for item in items:
        members.setdefault(key(item), []).append(item)
    return [Group(k, tuple(v)) for k, v in members.items()]


def singletons(items: Sequence[T], key: Callable[[T], str]) -> list[Group[T]]:
    """Every item its own unit (an ungrouped answer), keyed by ``key`` (the sku)."""
    return [Group(key(item), (item,)) for item in items]
