"""A worker killed with SIGKILL mid-stream and restarted ends with exactly the expected state (at-least-once +
idempotent, version-checked upserts) on the mixed stream of ``reliability/events.py`` (duplicates, stale and
out-of-order versions). Real broker, real Milvus Lite server, worker as a separate process."""

from __future__ import annotations

import json
import signal
import time

from catalog_search.core.errors import StoreError

from reliability.events import compare, expected_state, mixed_events
from tests.ingest.kafka_env import make_env

EVENTS = 1000


def stored(store) -> int:
    try:
        counts = store.counts()
    except StoreError:          # the worker has not created the collection yet
        return 0
    return counts.live + counts.tombstoned


def test_sigkill_mid_stream_then_restart_converges(kafka_broker, milvus_server, tmp_path):
    env = make_env(kafka_broker.bootstrap, milvus_server.uri, tmp_path, CATALOG_BATCH_MAX_EVENTS="25")
    stream = mixed_events(seed=7, n_events=EVENTS)
    env.publish(*stream.events)
    skus = len(stream.skus)

    worker = env.spawn("ingest", "kafka", log=tmp_path / "worker1.log")
    store = env.store()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and stored(store) < skus // 4:
        time.sleep(0.2)
    landed = stored(store)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    assert 0 < landed < skus, "kill must land mid-stream"

    done = env.cli("ingest", "kafka", "--until-idle", "3", "--json", timeout=300)
    assert done.returncode == 0, done.stderr
    counters = json.loads(done.stdout)
    assert counters["events"] > 0

    rows = store.fetch(sorted(stream.skus))
    store.close()
    result = compare(expected_state(stream.events), rows)
    assert (result["lost"], result["stale"], result["resurrected"], result["no_vector"], result["unexpected"]) == \
        (0, 0, 0, 0, 0), result["examples"]
