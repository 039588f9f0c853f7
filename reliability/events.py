"""A seeded stream of mixed catalog events and the independent oracle of the state it must leave.

``mixed_events(seed, n_events, n_skus)`` is what a messy producer sends: first upserts, then price/stock, title and
brand patches, deletes, revivals (an upsert after a delete), deletes of never-seen skus, patches that must be
dead-lettered (before the first upsert, after a delete), exact duplicates of any earlier event, stale replays of
older versions with other content, and out-of-order pairs (version v+2 published before v+1). Every event is a
plain dict in publish order; the key is the sku, so one sku's events keep their order on one partition.

``expected_state(events)`` folds the log in publish order with the contract's rules and nothing else (no product
code): an event whose version is not above the current one is stale; an upsert replaces the row; a patch changes
only the fields it carries and is dead-lettered without a live row; a delete leaves a tombstone.

At-least-once delivery re-applies events after a crash, so the final state must not depend on where a worker's
batches split or how often a suffix of the log is re-read. The stream keeps to what makes that true of the
contract itself: versions only grow per sku except for stale replays and the second event of an out-of-order
pair, which are stale when they arrive (so a re-read of them is stale too), and an out-of-order pair is only drawn
for a live sku (its first event applies; a dead-lettered patch followed by a lower version that applies would be
re-applied by a redelivery, which the DLQ replay would do anyway).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

COMPARED = ("version", "deleted", "title", "price", "in_stock", "brand")
BRANDS = ("Acme", "Bosch", "Makita", "DeWalt", "Ryobi", "Stanley")
NOUNS = ("cordless drill", "impact driver", "circular saw", "work light", "shop vacuum", "angle grinder",
         "hammer", "tape measure", "tool bag", "wrench set", "jig saw", "sander")
KINDS = ("upsert", "patch_price", "patch_title", "patch_brand", "delete", "revive", "delete_unknown",
         "patch_dead", "duplicate", "stale", "out_of_order")


@dataclass
class Stream:
    events: list[dict[str, Any]]
    kinds: Counter = field(default_factory=Counter)       # how many events of each kind were drawn
    skus: list[str] = field(default_factory=list)         # every sku the stream names

    def as_dict(self) -> dict[str, Any]:
        return {"events": len(self.events), "skus": len(self.skus), "kinds": dict(sorted(self.kinds.items()))}


def sku_name(seed: int, i: int) -> str:
    return f"S{seed}-{i:05d}"


def mixed_events(seed: int, n_events: int, n_skus: int | None = None) -> Stream:
    """About ``n_events`` events over ``n_skus`` skus (default ``n_events // 6``), reproducible from ``seed``."""
    rng = random.Random(seed)
    n_skus = max(4, n_skus if n_skus is not None else n_events // 6)
    stream = Stream(events=[])
    counter: dict[str, int] = {}      # highest version handed out per sku
    live: dict[str, bool] = {}        # per sku, live after what the stream has sent so far (the oracle's view)
    applied: dict[str, int] = {}      # per sku, the version of its current row

    def emit(kind: str, event: dict[str, Any]) -> None:
        stream.events.append(event)
        stream.kinds[kind] += 1

    def upsert(sku: str, version: int, tag: str) -> dict[str, Any]:
        n = rng.randrange(len(NOUNS))
        return {"op": "upsert", "sku": sku, "version": version, "title": f"{rng.choice(BRANDS)} {NOUNS[n]} {tag}",
                "brand": rng.choice(BRANDS), "price": round(rng.uniform(1, 500), 2), "currency": "USD",
                "in_stock": rng.random() < 0.8, "locale": "en-US", "description": f"{NOUNS[n]} for {sku}"}

    def fresh(kind: str, sku: str) -> dict[str, Any]:
        """The next event of ``kind`` for ``sku`` with a new version (patches only for live skus)."""
        counter[sku] = counter.get(sku, 0) + 1
        v = counter[sku]
        if kind == "patch_price":
            return {"op": "patch", "sku": sku, "version": v, "price": round(rng.uniform(1, 500), 2),
                    "in_stock": rng.random() < 0.5}
        if kind == "patch_title":
            return {"op": "patch", "sku": sku, "version": v, "title": f"{sku} renamed v{v}"}
        if kind == "patch_brand":
            return {"op": "patch", "sku": sku, "version": v, "brand": rng.choice(BRANDS)}
        if kind == "delete":
            return {"op": "delete", "sku": sku, "version": v}
        return upsert(sku, v, f"v{v}")

    def track(event: dict[str, Any]) -> None:
        sku, v = event["sku"], event["version"]
        if v <= applied.get(sku, -1):
            return
        if event["op"] == "patch" and not live.get(sku):
            return                                   # dead-lettered
        applied[sku] = v
        live[sku] = event["op"] != "delete"

    skus = [sku_name(seed, i) for i in range(n_skus)]
    stream.skus = list(skus)
    late = set(rng.sample(skus, max(1, n_skus // 20)))     # first named by a dead patch, upserted later
    for sku in skus:
        if sku in late:
            counter[sku] = 1
            emit("patch_dead", e := {"op": "patch", "sku": sku, "version": 1, "price": 9.99})
            track(e)
        emit("upsert", e := fresh("upsert", sku))
        track(e)

    unknown = 0
    while len(stream.events) < n_events:
        sku = rng.choice(skus)
        roll = rng.random()
        if roll < 0.30:
            kind = "patch_price" if live[sku] else "revive"
        elif roll < 0.40:
            kind = "patch_title" if live[sku] else "revive"
        elif roll < 0.45:
            kind = "patch_brand" if live[sku] else "patch_dead"
        elif roll < 0.57:
            kind = "delete" if live[sku] else "revive"
        elif roll < 0.62:
            kind = "patch_dead" if not live[sku] else "delete"
        elif roll < 0.64:
            kind = "delete_unknown"
        elif roll < 0.75:
            kind = "duplicate"
        elif roll < 0.86:
            kind = "stale"
        else:
            kind = "out_of_order" if live[sku] else "revive"

        if kind == "duplicate":
            emit(kind, dict(rng.choice(stream.events)))
        elif kind == "stale":
            v = rng.randrange(0, applied[sku] + 1)
            old = rng.choice([upsert(sku, v, "STALE"), {"op": "delete", "sku": sku, "version": v},
                              {"op": "patch", "sku": sku, "version": v, "price": 0.01, "title": "STALE"}])
            emit(kind, old)
        elif kind == "delete_unknown":
            ghost = f"G{seed}-{unknown:05d}"
            unknown += 1
            stream.skus.append(ghost)
            counter[ghost] = 1
            emit(kind, e := {"op": "delete", "sku": ghost, "version": rng.randrange(1, 1000)})
            live[ghost], applied[ghost] = False, e["version"]
        elif kind == "patch_dead":
            emit(kind, e := fresh("patch_price", sku))
            track(e)
        elif kind == "out_of_order":
            first = fresh(rng.choice(("patch_price", "patch_title", "delete", "upsert")), sku)
            second = fresh(rng.choice(("patch_price", "patch_title", "delete", "upsert")), sku)
            for e in (second, first):                # v+2 arrives before v+1
                emit(kind, e)
                track(e)
        else:                                         # upsert/revive, patches and deletes with a new version
            emit(kind, e := fresh("upsert" if kind == "revive" else kind, sku))
            track(e)
    return stream


def expected_state(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per sku the row the log leaves (``deleted=True`` for a tombstone), folding events in publish order."""
    state: dict[str, dict[str, Any]] = {}
    for e in events:
        cur = state.get(e["sku"])
        if cur is not None and e["version"] <= cur["version"]:
            continue                                            # stale
        if e["op"] == "upsert":
            state[e["sku"]] = {"version": e["version"], "deleted": False, "title": e["title"], "price": e["price"],
                               "in_stock": e.get("in_stock", True), "brand": e.get("brand", "")}
        elif e["op"] == "patch":
            if cur is None or cur["deleted"]:
                continue                                        # dead-lettered
            cur.update({k: v for k, v in e.items() if k in COMPARED}, version=e["version"])
        else:
            base = cur or {"title": "", "price": 0.0, "in_stock": False, "brand": ""}
            state[e["sku"]] = {**base, "version": e["version"], "deleted": True}
    return state


def compare(expected: dict[str, dict[str, Any]], rows: dict[str, Any]) -> dict[str, Any]:
    """Classify each sku: ``lost`` (expected live, missing or a tombstone), ``stale`` (an older version or other
    fields than expected), ``resurrected`` (expected deleted, found live), ``no_vector`` (live without a vector)."""
    lost, stale, resurrected, no_vector = [], [], [], []
    for sku, want in expected.items():
        row = rows.get(sku)
        if want["deleted"]:
            if row is not None and not row.deleted:
                resurrected.append(sku)
            elif row is None or row.version != want["version"]:
                stale.append(sku)                 # a tombstone must carry the delete's version
            continue
        if row is None or row.deleted:
            lost.append(sku)
            continue
        got = {k: getattr(row, k) for k in COMPARED}
        if got != {k: want[k] for k in COMPARED}:
            stale.append(sku)
        if row.vector is None:
            no_vector.append(sku)
    extra = sorted(set(rows) - set(expected))
    examples = {sku: {"expected": expected[sku], "actual": _row(rows.get(sku))}
                for sku in (lost + stale + resurrected)[:3]}
    return {"lost": len(lost), "stale": len(stale), "resurrected": len(resurrected), "no_vector": len(no_vector),
            "unexpected": len(extra), "examples": examples}


def _row(row: Any) -> dict[str, Any] | None:
    return None if row is None else {k: getattr(row, k) for k in COMPARED}
