"""A worker killed with SIGKILL mid-stream and restarted ends with exactly the expected state (at-least-once +
idempotent, version-checked upserts). Real broker, real Milvus Lite server, worker as a separate process."""

from __future__ import annotations

import json
import random
import signal
import time

from catalog_search.core.errors import StoreError

from tests.ingest.kafka_env import make_env

PRODUCTS = 400


def event_stream(seed: int = 7) -> list[dict]:
    """Upserts, price/stock/title patches, deletes, revivals and stale replays over PRODUCTS skus."""
    rng = random.Random(seed)
    version = {}
    events = []
    for i in range(PRODUCTS):
        sku = f"K{i:04d}"
        version[sku] = 1
        events.append({"op": "upsert", "sku": sku, "version": 1, "title": f"Product {i} cordless tool",
                       "price": float(i), "currency": "USD", "in_stock": True, "locale": "en-US"})
    for _ in range(600):
        sku = f"K{rng.randrange(PRODUCTS):04d}"
        roll = rng.random()
        if roll < 0.1:   # a stale replay of an old version: must change nothing
            events.append({"op": "upsert", "sku": sku, "version": max(0, version[sku] - 1), "title": "STALE",
                           "price": -0.0, "in_stock": True})
            continue
        version[sku] += 1
        v = version[sku]
        if roll < 0.6:
            events.append({"op": "patch", "sku": sku, "version": v, "price": float(v * 10), "in_stock": v % 2 == 0})
        elif roll < 0.75:
            events.append({"op": "patch", "sku": sku, "version": v, "title": f"{sku} renamed v{v}"})
        elif roll < 0.9:
            events.append({"op": "delete", "sku": sku, "version": v})
        else:
            events.append({"op": "upsert", "sku": sku, "version": v, "title": f"{sku} revived v{v}",
                           "price": 1.0, "in_stock": True})
    return events


def expected_state(events: list[dict]) -> dict[str, tuple]:
    """Independent oracle: per sku, apply events in stream order with the contract's rules."""
    state: dict[str, dict] = {}
    for e in events:
        cur = state.get(e["sku"])
        if cur is not None and e["version"] <= cur["version"]:
            continue
        if e["op"] == "upsert":
            state[e["sku"]] = {"version": e["version"], "deleted": False, "title": e["title"], "price": e["price"],
                               "in_stock": e["in_stock"]}
        elif e["op"] == "patch":
            if cur is None or cur["deleted"]:
                continue                                   # dead-lettered
            cur.update({k: v for k, v in e.items() if k in ("title", "price", "in_stock")}, version=e["version"])
        else:
            state[e["sku"]] = {**(cur or {"title": "", "price": 0.0, "in_stock": False}), "version": e["version"],
                               "deleted": True}
    return {sku: (s["version"], s["deleted"], s["title"], s["price"], s["in_stock"]) for sku, s in state.items()}


def stored(store) -> int:
    try:
        counts = store.counts()
    except StoreError:          # the worker has not created the collection yet
        return 0
    return counts.live + counts.tombstoned


def test_sigkill_mid_stream_then_restart_converges(kafka_broker, milvus_server, tmp_path):
    env = make_env(kafka_broker.bootstrap, milvus_server.uri, tmp_path, CATALOG_BATCH_MAX_EVENTS="25")
    events = event_stream()
    env.publish(*events)

    worker = env.spawn("ingest", "kafka", log=tmp_path / "worker1.log")
    store = env.store()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and stored(store) < PRODUCTS // 4:
        time.sleep(0.2)
    landed = stored(store)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    assert 0 < landed < PRODUCTS, "kill must land mid-stream"

    done = env.cli("ingest", "kafka", "--until-idle", "3", "--json", timeout=300)
    assert done.returncode == 0, done.stderr
    counters = json.loads(done.stdout)
    assert counters["events"] > 0

    expected = expected_state(events)
    rows = store.fetch(sorted(expected))
    store.close()
    actual = {sku: (r.version, r.deleted, r.title, r.price, r.in_stock) for sku, r in rows.items()}
    mismatches = {sku: (expected[sku], actual.get(sku)) for sku in expected if actual.get(sku) != expected[sku]}
    assert not mismatches, f"{len(mismatches)} skus differ, e.g. {list(mismatches.items())[:3]}"
    assert all(r.vector is not None for r in rows.values() if not r.deleted)
