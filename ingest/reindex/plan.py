"""Pure decisions of a reindex: name checks, carry vectors or re-embed, catch-up offsets, rows as events,
the gate's verdict and what the operator does next. No I/O; every function is tested with plain data.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from catalog_search.core.errors import ConfigError
from catalog_search.core.events import PRODUCT_FIELDS
from catalog_search.core.product import Product
from catalog_search.core.settings import Settings


@dataclass(frozen=True)
class Side:
    """What decides whether a stored vector is still valid: the model, its dim and the text it embedded."""

    collection: str
    model_id: str
    dim: int
    embed_attributes: tuple[str, ...]


def check_target(*, alias: str, live: str, target: str, ingest_collection: str) -> None:
    """The new collection must be a fresh name: not the alias, not what it serves, not what ingest writes."""
    if target == alias:
        raise ConfigError(f"--to {target!r} is the search alias itself; name a new physical collection")
    if target == live:
        raise ConfigError(f"--to {target!r} is the collection the alias {alias!r} points at now; a reindex builds "
                          "a new collection next to it (e.g. catalog_products_v2)")
    if target == ingest_collection:
        raise ConfigError(f"--to {target!r} is CATALOG_MILVUS_COLLECTION, which the ingest workers write; name a "
                          "new collection")


def vectors_reusable(live: Side, new: Side, *, force_re_embed: bool = False) -> tuple[bool, str]:
    """Whether the live collection's stored vectors can be copied as they are, and why (for the report)."""
    if force_re_embed:
        return False, "re-embedding everything (--re-embed)"
    if live.model_id != new.model_id:
        return False, f"re-embedding: model changes ({live.model_id} -> {new.model_id})"
    if live.dim != new.dim:
        return False, f"re-embedding: dim changes ({live.dim} -> {new.dim})"
    if live.embed_attributes != new.embed_attributes:
        return False, "re-embedding: the embedded text changes (CATALOG_EMBED_ATTRIBUTES)"
    return True, f"copying stored vectors (same model {new.model_id}, dim {new.dim}, same embedded text)"


def catchup_group(kafka_group: str, target: str) -> str:
    """The consumer group that keeps ``target`` current; ingest workers of the new collection take it over."""
    return f"{kafka_group}-{target}"


def start_offsets(committed: Mapping[int, int | None], beginning: Mapping[int, int], *,
                  replay_from: str = "committed") -> dict[int, int]:
    """Where catch-up starts per partition: the live group's committed offset, else the partition's start.

    Everything before a committed offset is durable in the live collection, hence in the snapshot read after it.
    """
    if replay_from not in ("committed", "earliest"):
        raise ValueError(f"replay_from must be 'committed' or 'earliest', got {replay_from!r}")
    out = {}
    for partition, first in beginning.items():
        offset = committed.get(partition) if replay_from == "committed" else None
        out[partition] = first if offset is None else max(int(offset), first)
    return out


def row_event(product: Product) -> bytes:
    """A stored row as the event that recreates it (same version): an upsert, or a delete for a tombstone."""
    if product.deleted:
        data: dict[str, object] = {"op": "delete", "sku": product.sku, "version": product.version}
    else:
        data = {"op": "upsert", "sku": product.sku, "version": product.version}
        for name in PRODUCT_FIELDS:
            value = getattr(product, name)
            data[name] = dict(value) if name == "attributes" else float(value) if name == "price" else value
        data["group_id"] = product.group        # a row of a collection older than group_id has none: its sku
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def next_steps(*, alias: str, old: str, new: str, group: str, model_env: Sequence[str], swapped: bool,
               following: bool, dropped: bool = False) -> list[str]:
    """What the operator does after the command, in order."""
    env = " ".join([f"CATALOG_MILVUS_COLLECTION={new}", f"CATALOG_KAFKA_GROUP={group}", *model_env])
    if not swapped:
        return [f"alias {alias!r} still points at {old!r}; {new!r} is kept for inspection",
                "it is not served; drop it when done, or rebuild it with --overwrite"]
    kept = "was dropped (--drop-old)" if dropped else "is kept for rollback"
    steps = [f"alias {alias!r} now points at {new!r}; {old!r} {kept}",
             f"point the ingest workers at the new collection: {env} "
             f"(the group's offsets are where this reindex stopped, so nothing is missed or lost)"]
    if following:
        steps.append("this process keeps applying new events to it until SIGTERM/Ctrl-C: stop it once the "
                     "workers run")
    else:
        steps.append(f"until they run, {new!r} receives no updates: start them now (--follow keeps the new "
                     "collection current in the meantime)")
    if not dropped:
        steps.append(f"rollback: `catalog-search alias --set {old}` (while its ingest workers still run)")
    return steps


class Scorer(Protocol):
    """The gate's measure (``evaluate.gate.JudgedScorer``, passed in by the app shell): nDCG@10 and friends of the
    default search through ``settings.milvus.alias``, on ``queries`` judged queries."""

    @property
    def queries(self) -> int: ...

    def score(self, settings: Settings) -> Mapping[str, float]: ...


def passes(before: float, after: float, max_drop: float) -> bool:
    """The new nDCG@10 may be at most ``max_drop`` below the old one (float noise tolerated)."""
    if max_drop < 0:
        raise ValueError("max_drop must be >= 0")
    return after >= before - max_drop - 1e-9


@dataclass(frozen=True)
class GateResult:
    before: Mapping[str, float]          # what the alias served before the swap
    after: Mapping[str, float]           # the new collection
    max_drop: float

    @property
    def passed(self) -> bool:
        return passes(self.before["ndcg@10"], self.after["ndcg@10"], self.max_drop)

    @property
    def delta(self) -> float:
        return self.after["ndcg@10"] - self.before["ndcg@10"]

    def as_dict(self) -> dict[str, Any]:
        def rounded(m: Mapping[str, float]) -> dict[str, float]:
            return {k: round(v, 4) if isinstance(v, float) else v for k, v in m.items()}
        return {"passed": self.passed, "max_drop": self.max_drop, "ndcg@10_delta": round(self.delta, 4),
                "before": rounded(self.before), "after": rounded(self.after)}

    def summary(self) -> str:
        verdict = "passed" if self.passed else "FAILED"
        return (f"gate {verdict}: nDCG@10 {self.before['ndcg@10']:.4f} -> {self.after['ndcg@10']:.4f} "
                f"({self.delta:+.4f}, allowed drop {self.max_drop:g}) on {int(self.after['queries'])} judged queries")
