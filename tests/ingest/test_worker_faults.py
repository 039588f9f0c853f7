"""Milvus goes down mid-stream: the worker retries with backoff, stays in its consumer group (no replay), commits
nothing past unapplied events, and catches up once Milvus is back. Real broker, real Milvus Lite server process."""

from __future__ import annotations

import json
import signal
import time

import pytest

from catalog_search.core.errors import StoreError
from catalog_search.app.localstack import MilvusLiteServer, free_port
from tests.ingest.kafka_env import make_env

pytestmark = pytest.mark.milvus   # starts (and stops) its own Milvus Lite server


def wait_for(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except StoreError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def product(i: int, version: int = 1) -> dict:
    return {"op": "upsert", "sku": f"F{i:03d}", "version": version, "title": f"Trail running shoe model {i}",
            "price": 50.0 + i, "currency": "USD", "in_stock": True, "locale": "en-US"}


def test_milvus_outage_is_retried_without_losing_or_replaying_events(kafka_broker, tmp_path):
    milvus = MilvusLiteServer(tmp_path / "milvus", free_port())
    milvus.start()
    env = make_env(kafka_broker.bootstrap, milvus.uri, tmp_path, CATALOG_RETRY_INITIAL_S="0.2",
                   CATALOG_RETRY_MAX_S="1", CATALOG_MILVUS_TIMEOUT_S="2")
    env.publish(*(product(i) for i in range(30)))
    log = tmp_path / "worker.log"
    worker = env.spawn("--log", "ingest", "kafka", "--json", log=log)
    try:
        store = env.store()
        wait_for(lambda: store.counts().live == 30, 90, "the first 30 products")
        store.close()

        milvus.stop()
        env.publish(*(product(i) for i in range(30, 50)),
                    *({"op": "patch", "sku": f"F{i:03d}", "version": 2, "price": 1.0} for i in range(10)))
        time.sleep(14)            # longer than max.poll.interval (10 s): the worker must keep its membership
        assert worker.poll() is None, log.read_text()
        milvus.start()

        store = env.store()
        wait_for(lambda: store.counts().live == 50, 90, "all 50 products after the outage")
        wait_for(lambda: all(r.price == 1.0 for r in store.fetch([f"F{i:03d}" for i in range(10)]).values()),
                 30, "the patches")
        store.close()
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
        milvus.stop()
    output = log.read_text()
    assert worker.returncode == 0, output
    counters = json.loads(output.strip().splitlines()[-1])
    # exactly once per event: nothing re-read after an eviction, nothing committed and re-applied
    assert (counters["events"], counters["upserted"], counters["patched"]) == (60, 50, 10), counters
    assert "apply batch failed" in output and "retrying in" in output and "UNAVAILABLE" in output
