"""``catalog-search ingest file``: JSON Lines backfill through the same code, on a real Milvus Lite server."""

from __future__ import annotations

import json

from tests.ingest.kafka_env import make_env


def test_backfill_events_and_plain_records_with_rejects(kafka_broker, milvus_server, tmp_path):
    env = make_env(kafka_broker.bootstrap, milvus_server.uri, tmp_path)
    path = tmp_path / "products.jsonl"
    lines = [
        json.dumps({"sku": "H1", "title": "Cordless drill"}),                         # plain record -> upsert v1
        json.dumps({"sku": "H2", "title": "Paint roller", "version": 4, "price": 9.5}),
        json.dumps({"op": "patch", "sku": "H1", "version": 2, "price": 59.0}),
        json.dumps({"op": "delete", "sku": "H3", "version": 1}),
        "",                                                                            # blank lines are skipped
        "{broken",
        json.dumps({"op": "patch", "sku": "H9", "version": 1, "price": 1.0}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = env.cli("ingest", "file", str(path), "--json")
    assert done.returncode == 0, done.stderr
    counters = json.loads(done.stdout)
    assert {k: counters[k] for k in ("events", "upserted", "patched", "deleted", "dead_lettered")} == \
        {"events": 6, "upserted": 2, "patched": 1, "deleted": 1, "dead_lettered": 2}
    assert "2 line(s) rejected" in done.stderr

    rows = env.rows("H1", "H2", "H3")
    assert (rows["H1"].version, rows["H1"].price) == (2, 59.0) and rows["H2"].version == 4 and rows["H3"].deleted
    rejects = [json.loads(line) for line in (tmp_path / "products.jsonl.rejects.jsonl").read_text().splitlines()]
    assert sorted(r["offset"] for r in rejects) == [6, 7]          # line numbers in the source file
    assert any("not valid UTF-8 JSON" in r["reason"] for r in rejects)
    assert any("unknown sku 'H9'" in r["reason"] for r in rejects)

    again = json.loads(env.cli("ingest", "file", str(path), "--json").stdout)   # a re-run is idempotent
    assert (again["stale"], again["upserted"], again["embedded_texts"]) == (4, 0, 0)
