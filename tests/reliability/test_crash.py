"""Part 1 (crash safety): the event stream and its oracle (pure), every batch split of it through the real plan, and
the quick run of reliability/crash.py on the real broker, Milvus Lite server and CLI worker."""

from __future__ import annotations

import json
import random
from types import SimpleNamespace

import numpy as np
import pytest

from catalog_search.core.events import parse_event
from catalog_search.ingest.plan import plan_batch
from reliability import crash
from reliability.events import KINDS, compare, expected_state, mixed_events
from reliability.workers import dead_patches


def test_the_stream_is_seeded_and_draws_every_kind():
    a, b = mixed_events(3, 2000), mixed_events(3, 2000)
    assert a.events == b.events and a.events != mixed_events(4, 2000).events
    assert set(a.kinds) == set(KINDS) and all(a.kinds[k] > 0 for k in KINDS)
    assert len(a.events) >= 2000


def _fold(events, rng, max_batch, redeliver):
    """The real plan over ``events`` in random batches, re-reading a random suffix now and then (a crash)."""
    parsed = [parse_event(json.dumps(e).encode(), max_bytes=1 << 20) for e in events]
    stored, i = {}, 0
    while i < len(parsed):
        n = rng.randint(1, max_batch)
        back = rng.randint(0, min(i, 60)) if redeliver and rng.random() < 0.2 else 0
        for sku, row in plan_batch(parsed[i - back:i + n], stored, now_ms=0).writes.items():
            stored[sku] = row.with_changes(vector=None if row.deleted else np.ones(2, np.float32))
        i += n
    return stored


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("max_batch", [1, 30, 400])
def test_any_batch_split_and_any_redelivery_leave_the_oracle_state(seed, max_batch):
    """Regression: with a fold in version order inside a batch, out-of-order versions left a state that depended on
    the batch boundaries (lost and stale products at batch sizes above one)."""
    stream = mixed_events(seed, 1500)
    rows = _fold(stream.events, random.Random(seed), max_batch, redeliver=True)
    result = compare(expected_state(stream.events), rows)
    assert (result["lost"], result["stale"], result["resurrected"], result["unexpected"]) == (0, 0, 0, 0), \
        result["examples"]


def _row(version, deleted=False, title="t", price=1.0, in_stock=True, brand="b", vector=True):
    return SimpleNamespace(version=version, deleted=deleted, title=title, price=price, in_stock=in_stock,
                           brand=brand, vector=np.ones(2) if vector else None)


def test_compare_tells_lost_stale_and_resurrected_apart():
    events = [{"op": "upsert", "sku": "A", "version": 2, "title": "t", "price": 1.0, "in_stock": True, "brand": "b"},
              {"op": "upsert", "sku": "B", "version": 1, "title": "t", "price": 1.0, "in_stock": True, "brand": "b"},
              {"op": "delete", "sku": "C", "version": 4},
              {"op": "upsert", "sku": "D", "version": 1, "title": "t", "price": 1.0, "in_stock": True, "brand": "b"}]
    expected = expected_state(events)
    assert compare(expected, {"A": _row(2), "B": _row(1), "C": _row(4, deleted=True), "D": _row(1)})["lost"] == 0
    got = compare(expected, {"A": _row(1), "C": _row(5), "D": _row(1, price=2.0, vector=False)})
    assert (got["lost"], got["stale"], got["resurrected"], got["no_vector"]) == (1, 2, 1, 1)


def test_dead_patches_are_those_without_a_live_row():
    events = [{"op": "patch", "sku": "A", "version": 1, "price": 1.0},
              {"op": "upsert", "sku": "A", "version": 2, "title": "t", "price": 1.0},
              {"op": "delete", "sku": "A", "version": 3},
              {"op": "patch", "sku": "A", "version": 2, "price": 5.0},      # stale, not dead
              {"op": "patch", "sku": "A", "version": 4, "price": 6.0}]
    assert [e["version"] for e in dead_patches(events)] == [1, 4]


@pytest.mark.kafka
@pytest.mark.milvus
def test_quick_run_kills_the_worker_and_converges_to_the_oracle():
    result = crash.run(quick=True)
    assert result["passed"], ([c for c in result["checks"] if not c["passed"]],
                              [(r["seed"], r["failed"], r["kill_points"], r["examples"]) for r in result["runs"]])
    t = result["totals"]
    assert (t["lost"], t["stale"], t["resurrected"]) == (0, 0, 0)
    assert t["kills"] >= 4 and t["events"] >= 600 and result["runs_passed"] == result["seeds"] == 2
    assert "runs passed" in crash.render(result)
