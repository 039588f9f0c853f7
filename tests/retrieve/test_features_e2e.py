"""Typo tolerance and the query log end to end: the real gRPC server and searcher on a Milvus Lite server holding the
sample catalog's English products, the real Tansu broker for the query log (a stopped one and an unreachable one
too), the CLI's ``querylog export`` and ``eval --replay``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from catalog_search.adapters.embedding.local import LocalEmbedder
from catalog_search.adapters.kafka import read_topic
from catalog_search.adapters.milvus.store import MilvusStore
from catalog_search.app.cli import main
from catalog_search.app.localstack import KafkaBroker, free_port
from catalog_search.core.events import event_from_dict
from catalog_search.core.settings import Settings, load_settings
from catalog_search.ingest.pipeline import Pipeline
from catalog_search.retrieve.client import SearchClient
from catalog_search.retrieve.domain import SearchResponse
from catalog_search.retrieve.querylog import QueryLogRecord

SAMPLE = Path(__file__).resolve().parents[2] / "app" / "data" / "sample_catalog.jsonl"
TIMEOUT_S = 10.0
DRILL = "EN-TLS-0001"            # DEWALT 20V MAX Cordless Drill/Driver Kit


@pytest.fixture(scope="module")
def catalog(milvus_server: Any) -> Iterator[tuple[Settings, Pipeline]]:
    suffix = uuid.uuid4().hex[:10]
    settings = load_settings(milvus_uri=milvus_server.uri, milvus_collection=f"feat_{suffix}",
                             milvus_alias=f"feat_a_{suffix}", embed_backend="local", rerank_backend="none",
                             milvus_timeout_s=10.0)
    store = MilvusStore.from_settings(settings)
    store.ensure_collection()
    lines = [line for line in SAMPLE.read_text(encoding="utf-8").splitlines() if '"sku":"EN-' in line]
    events = [event_from_dict(json.loads(line)) for line in lines]
    embedder = LocalEmbedder()
    pipeline = Pipeline(embedder, store)
    for start in range(0, len(events), 64):
        pipeline.process(events[start:start + 64])
    yield settings, pipeline
    try:
        store.drop_alias(store.alias)
        store.drop_collection()
    finally:
        store.close()
        embedder.close()


Start = Callable[..., Any]


@pytest.fixture
def start(catalog: tuple[Settings, Pipeline]) -> Iterator[Start]:
    """``start(**flat settings)``: a real server over the catalog; stopped at teardown."""
    from catalog_search.app.search_wiring import start_search_server

    handles = []

    def make(**overrides: Any) -> Any:
        address = f"127.0.0.1:{free_port()}"
        settings = catalog[0].replace(**{"grpc_address": address, **overrides})
        handle = start_search_server(settings, address=address)
        handle.settings = settings
        handles.append(handle)
        return handle

    yield make
    for handle in handles:
        handle.stop(1.0)


def until(condition: Callable[[], Any], timeout_s: float = 30.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def search(handle: Any, query: str, **kw: Any) -> SearchResponse:
    with SearchClient(handle.address, timeout_s=TIMEOUT_S) as client:
        return client.search(query, rerank=False, **kw)


# ------------------------------------------------------------------------------------------------------- spelling

def test_a_misspelled_query_is_corrected_against_the_real_catalog(start: Start, capsys: pytest.CaptureFixture[str],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    server = start(spell_enabled=True)
    resp = until(lambda: (r := search(server, "cordles dril")).corrected_query and r, what="the vocabulary")
    assert resp.corrected_query == "cordless drill"
    drill = next(h for h in resp.hits if h.sku == DRILL)
    assert resp.hits.index(drill) < 3 and drill.scores.bm25 is not None
    assert "spell" in resp.timings_ms

    typed = search(server, "cordles dril", spell_correct=False)
    assert typed.corrected_query == "" and "spell" not in typed.timings_ms
    assert all(h.scores.bm25 is None for h in typed.hits)               # nothing in the catalog says "cordles"
    assert search(server, "wirless headphones").corrected_query == "wireless headphones"
    assert search(server, "cordless drill").corrected_query == ""        # nothing to correct

    monkeypatch.setenv("CATALOG_GRPC_ADDRESS", server.address)
    assert main(["search", "toliet cordles dril", "--json", "--top-k", "3", "--no-rerank"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["corrected_query"] == "toliet cordless drill"         # "toliet": no toilet in this catalog
    assert len(printed["request_id"]) == 32


def test_the_vocabulary_follows_what_ingestion_writes(start: Start, catalog: tuple[Settings, Pipeline]) -> None:
    server = start(spell_enabled=True, spell_refresh_s=1.0)
    until(lambda: search(server, "cordles").corrected_query, what="the first vocabulary")
    assert search(server, "narwhall night light").corrected_query == ""
    catalog[1].process([event_from_dict({"op": "upsert", "sku": "EN-NEW-0001", "version": 1, "price": 19.0,
                                         "title": "Aurora Narwhal Plush Night Light", "brand": "Glowmoth"})])
    resp = until(lambda: (r := search(server, "narwhall night light")).corrected_query and r, what="a rebuild")
    assert resp.corrected_query == "narwhal night light" and resp.hits[0].sku == "EN-NEW-0001"
    assert until(lambda: search(server, "glowmoht lamp").corrected_query) == "glowmoth lamp"    # brands too


# ------------------------------------------------------------------------------------------------------ query log

def _records(settings: Settings, expected: int) -> list[QueryLogRecord]:
    def read() -> list[QueryLogRecord] | None:
        records = [QueryLogRecord.from_json(v) for v in read_topic(settings, settings.querylog.topic, idle_s=0.5)]
        return records if len(records) >= expected else None
    return until(read, what=f"{expected} query-log records")


def _counter(handle: Any, name: str, **labels: str) -> float:
    value = handle.searcher.query_log.counters.registry.get_sample_value(name, labels or None)
    return value or 0.0


def test_the_query_log_receives_one_record_per_search_and_replays(
        start: Start, kafka_broker: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    topic = f"searches-{uuid.uuid4().hex[:8]}"
    server = start(querylog_enabled=True, querylog_topic=topic, kafka_bootstrap=kafka_broker.bootstrap)
    queries = ["cordless drill", "noise cancelling headphones", "coffee maker", "black sneakers", "warm jacket"]
    responses = [search(server, q, top_k=5) for q in queries]
    responses.append(search(server, "laptop", top_k=3, categories=["Electronics"], price_max=3000.0))
    records = _records(server.settings, len(responses))
    time.sleep(1.0)
    assert len(_records(server.settings, len(responses))) == len(responses)      # exactly one per search
    by_id = {r.request_id: r for r in records}
    assert set(by_id) == {r.request_id for r in responses}
    for resp in responses:
        record = by_id[resp.request_id]
        assert record.skus == [h.sku for h in resp.hits] and [h.score for h in record.hits] == \
            [h.score for h in resp.hits]
        assert record.timings_ms == resp.timings_ms and record.degraded == resp.degraded
        assert record.collection == server.settings.milvus.collection
    filtered = by_id[responses[-1].request_id]
    assert filtered.filters["categories"] == [{"path": "Electronics", "prefix": True}]
    assert filtered.filters["price_max"] == 3000.0 and filtered.options["top_k"] == 3
    assert _counter(server, "catalog_search_querylog_published_total") == len(responses)

    export = tmp_path / "searches.jsonl"
    for key, value in {"CATALOG_KAFKA_BOOTSTRAP": kafka_broker.bootstrap, "CATALOG_QUERYLOG_TOPIC": topic,
                       "CATALOG_MILVUS_URI": server.settings.milvus.uri,
                       "CATALOG_MILVUS_ALIAS": server.settings.milvus.alias,
                       "CATALOG_MILVUS_COLLECTION": server.settings.milvus.collection,
                       "CATALOG_EMBED_BACKEND": "local", "CATALOG_RERANK_BACKEND": "none"}.items():
        monkeypatch.setenv(key, value)
    assert main(["querylog", "export", "--out", str(export)]) == 0
    assert sorted(json.loads(line)["request_id"] for line in export.read_text().splitlines()) == sorted(by_id)
    capsys.readouterr()

    assert main(["eval", "--replay", str(export), "--json", "--no-progress"]) == 0
    same = json.loads(capsys.readouterr().out)["replay"]["as-logged"]
    assert same["replayed"] == len(responses) and same["overlap@10"] == 1.0 and same["identical_top10"] == 1.0
    assert same["latency_ms"]["old"]["p50"] > 0 and same["latency_ms"]["new"]["p50"] > 0
    assert main(["eval", "--replay", str(export), "--config", "bm25", "--json", "--no-progress"]) == 0
    bm25 = json.loads(capsys.readouterr().out)["replay"]["bm25"]
    assert bm25["replayed"] == len(responses) and bm25["overlap@10"] < 1.0
    assert len(_records(server.settings, len(responses))) == len(responses)     # replays are not logged


def test_a_search_answers_while_the_broker_is_unreachable(start: Start) -> None:
    server = start(querylog_enabled=True, kafka_bootstrap=f"127.0.0.1:{free_port()}", querylog_queue_size=3,
                   querylog_send_timeout_s=1.0)
    walls = []
    for i in range(12):
        started = time.perf_counter()
        resp = search(server, f"cordless drill {i}")
        walls.append(time.perf_counter() - started)
        assert resp.hits and len(resp.request_id) == 32
    assert max(walls) < 1.0, walls                  # a send or connect attempt takes >= 1 s: none was waited for
    assert _counter(server, "catalog_search_querylog_dropped_total", reason="queue_full") >= 12 - 3 - 1
    assert _counter(server, "catalog_search_querylog_published_total") == 0


@pytest.mark.kafka                    # starts a broker of its own, to stop it
def test_a_search_answers_after_the_broker_stops(start: Start, tmp_path: Path) -> None:
    with KafkaBroker(free_port(), tmp_path / "broker") as broker:
        server = start(querylog_enabled=True, kafka_bootstrap=broker.bootstrap, querylog_queue_size=4,
                       querylog_send_timeout_s=1.0)
        for q in ("coffee maker", "black sneakers", "phone"):
            search(server, q)
        assert len(_records(server.settings, 3)) == 3
    # the broker is gone
    walls = []
    for i in range(10):
        started = time.perf_counter()
        resp = search(server, f"coffee maker {i}")
        walls.append(time.perf_counter() - started)
        assert resp.hits and resp.request_id
    assert max(walls) < 1.0, walls
    assert _counter(server, "catalog_search_querylog_published_total") == 3

    def dropped() -> float:                      # the records after the stop are dropped and counted
        return sum(_counter(server, "catalog_search_querylog_dropped_total", reason=r)
                   for r in ("queue_full", "broker_error"))
    until(lambda: dropped() >= 10 - 4 - 1, what="the drops to be counted")
    assert _counter(server, "catalog_search_querylog_published_total") == 3
