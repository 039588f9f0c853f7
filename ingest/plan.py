"""Decide what a batch of events does to the stored catalog (pure: no I/O, no clock, no model).

Events of one sku are folded in arrival (offset) order onto its stored row: an event whose version is not above
the row's is stale and skipped, patches change only the fields they carry, deletes leave a tombstone (the last row
with ``deleted=True`` and the delete's version), so an older upsert arriving later cannot resurrect the sku while a
newer one revives it. Arrival order makes the result independent of where batches split, so a crash or a rebalance
(which move the splits and re-deliver a suffix) leaves the same state. The folded row needs the model only when its
embedded text differs from the one whose vector is already stored. Every written row carries its embedded text
(``Product.embedded_text``), computed here once; the store writes it as it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum

from catalog_search.core.events import Delete, Event, Patch, Upsert
from catalog_search.core.product import DEFAULT_EMBED_ATTRIBUTES, Product, embed_text, text_hash


class Outcome(str, Enum):
    UPSERTED = "upserted"
    PATCHED = "patched"
    DELETED = "deleted"
    STALE = "stale"
    DEAD = "dead_lettered"


@dataclass(frozen=True)
class EventResult:
    outcome: Outcome
    reason: str = ""


@dataclass
class BatchPlan:
    """``writes`` are final rows; those whose sku is in ``to_embed`` still need a vector for that text."""

    results: list[EventResult]                       # aligned with the input events
    writes: dict[str, Product] = field(default_factory=dict)
    to_embed: dict[str, str] = field(default_factory=dict)   # sku -> embedded text


def plan_batch(events: Sequence[Event], stored: Mapping[str, Product], *, now_ms: int,
               embed_attributes: Iterable[str] = DEFAULT_EMBED_ATTRIBUTES) -> BatchPlan:
    results: list[EventResult | None] = [None] * len(events)
    by_sku: dict[str, list[int]] = {}
    for index, event in enumerate(events):
        by_sku.setdefault(event.sku, []).append(index)

    plan = BatchPlan(results=[])
    attributes = tuple(embed_attributes)
    for sku, indexes in by_sku.items():
        before = stored.get(sku)
        state = before
        # arrival order, not version order: the fold must not depend on where batches split (a crash or a rebalance
        # moves the splits), and across batches a lower version arriving later is stale anyway
        for index in indexes:
            state, results[index] = apply_event(state, events[index], now_ms=now_ms)
        if state is None or state is before:
            continue
        text = embed_text(state, embed_attributes=attributes)
        state = state.with_changes(embedded_text=text)        # a tombstone keeps its last text, as stored before
        if not state.deleted:
            digest = text_hash(text)
            reusable = before is not None and before.vector is not None and before.text_hash == digest
            state = state.with_changes(text_hash=digest, vector=before.vector if reusable else None)
            if not reusable:
                plan.to_embed[sku] = text
        plan.writes[sku] = state
    plan.results = [r for r in results if r is not None]
    return plan


def apply_event(state: Product | None, event: Event, *, now_ms: int) -> tuple[Product | None, EventResult]:
    """One event onto one row; returns the new row (unchanged object when nothing changes) and the outcome."""
    if state is not None and event.version <= state.version:
        return state, EventResult(Outcome.STALE, f"version {event.version} <= stored {state.version}")
    if isinstance(event, Upsert):
        return Product(sku=event.sku, version=event.version, updated_at_ms=now_ms, **event.fields), \
            EventResult(Outcome.UPSERTED)
    if isinstance(event, Patch):
        if state is None:
            return state, EventResult(Outcome.DEAD, f"patch for unknown sku {event.sku!r}: no upsert seen before")
        if state.deleted:
            return state, EventResult(Outcome.DEAD, f"patch for deleted sku {event.sku!r} (deleted at version "
                                                    f"{state.version}); send an upsert to revive it")
        return state.with_changes(version=event.version, updated_at_ms=now_ms, **event.fields), \
            EventResult(Outcome.PATCHED)
    assert isinstance(event, Delete)
    if state is None:
        return Product(sku=event.sku, version=event.version, deleted=True, updated_at_ms=now_ms), \
            EventResult(Outcome.DELETED)
    return state.with_changes(version=event.version, deleted=True, updated_at_ms=now_ms), EventResult(Outcome.DELETED)
