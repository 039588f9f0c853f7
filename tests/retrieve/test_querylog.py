"""The query-log record (round trip back to the request it logged) and the asynchronous publisher (bounded queue,
background thread, counted drops), with in-process sinks."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import fields

import pytest

from catalog_search.core.errors import BrokerError
from catalog_search.retrieve.domain import (CategoryFilter, FacetRequest, Hit, SearchFilters, SearchRequest,
                                           SearchResponse, StageScores)
from catalog_search.retrieve.querylog import (AsyncQueryLog, InvalidRecord, QueryLogRecord, Tally, new_request_id,
                                              record_of)

Done = Callable[[BaseException | None], None]


def _response() -> SearchResponse:
    hits = [Hit(sku=f"S{i}", title="t", brand="b", category="c", price=1.0, currency="", in_stock=True,
                score=1.0 - i / 10, scores=StageScores(dense=0.5, bm25=None if i else 3.0, fused=1.0 - i / 10))
            for i in range(3)]
    return SearchResponse(hits=hits, degraded=True, degraded_reason="rerank timeout",
                          timings_ms={"embed": 1.5, "total": 9.0}, models={"embedding": "e5", "reranker": "r"},
                          request_id="rid", corrected_query="cordless drill")


def _record(rid: str = "r1") -> QueryLogRecord:
    req = SearchRequest(query="q", top_k=3)
    return record_of(req, _response(), request_id=rid, collection="c", ts_ms=1)


def test_a_record_round_trips_to_the_request_it_logged() -> None:
    req = SearchRequest(query="cordles drill", top_k=7, rerank=False, candidates=50, fusion="rrf",
                        retrievers="bm25", spell_correct=True, group_by="group_id", page_size=5, sort="price_asc",
                        facets=(FacetRequest("brand"), FacetRequest("price", ranges=(25.0, 100.0), size=5)),
                        filters=SearchFilters(categories=(CategoryFilter("Tools > Drills", prefix=False),),
                                              brands=("DeWalt", "Makita"), price_min=10.0, in_stock_only=True,
                                              tenant="shop-a"))
    record = record_of(req, _response(), request_id="abc", collection="catalog_v1", ts_ms=1234)
    line = record.to_json()
    data = json.loads(line)
    assert data["v"] == 1 and data["request_id"] == "abc" and data["corrected_query"] == "cordless drill"
    assert data["filters"]["categories"] == [{"path": "Tools > Drills", "prefix": False}]
    assert [h["sku"] for h in data["hits"]] == ["S0", "S1", "S2"] and data["hits"][0]["bm25"] == 3.0
    assert data["options"]["facets"][1] == {"field": "price", "level": 1, "ranges": [25.0, 100.0], "size": 5}
    assert data["timings_ms"] == {"embed": 1.5, "total": 9.0} and data["degraded_reason"] == "rerank timeout"
    assert set(data) == {"v"} | {f.name for f in fields(QueryLogRecord)}       # to_dict is written by hand
    back = QueryLogRecord.from_json(line)
    assert back == record
    assert back.request() == req
    assert back.request(fusion="weighted", alpha=0.2) == SearchRequest(**{**req.__dict__, "fusion": "weighted",
                                                                          "alpha": 0.2})


@pytest.mark.parametrize(("line", "message"), [
    (b"[]", "JSON object"), (b"{", "not valid JSON"), (b'{"v": 2, "request_id": "a", "query": "q", "ts_ms": 1}',
                                                        "version"),
    (b'{"v": 1, "query": "q", "ts_ms": 1}', "request_id"),
    (b'{"v": 1, "request_id": "a", "query": "q", "ts_ms": 1, "hits": [{"nope": 1}]}', "malformed"),
])
def test_malformed_lines_are_refused(line: bytes, message: str) -> None:
    with pytest.raises(InvalidRecord, match=message):
        QueryLogRecord.from_json(line)


def test_request_ids_are_unique() -> None:
    assert len({new_request_id() for _ in range(1000)}) == 1000


class Sink:
    def __init__(self, *, block: threading.Event | None = None, fail: BaseException | None = None) -> None:
        self.sent: list[tuple[bytes, bytes]] = []
        self.block = block
        self.fail = fail
        self.entered = threading.Event()
        self.closed = False

    def send(self, key: bytes, value: bytes, on_done: Done) -> None:
        self.entered.set()
        if self.block is not None:
            self.block.wait()
        self.sent.append((key, value))
        on_done(self.fail)

    def flush(self, timeout_s: float) -> None:
        pass

    def close(self) -> None:
        self.closed = True


def _wait(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_every_record_is_sent_in_order_keyed_by_request_id() -> None:
    sink, tally = Sink(), Tally()
    qlog = AsyncQueryLog(lambda: sink, queue_size=100, counters=tally)
    for i in range(50):
        qlog.publish(_record(f"r{i}"))
    _wait(lambda: tally.sent == 50)
    qlog.close()
    assert [k for k, _ in sink.sent] == [f"r{i}".encode() for i in range(50)]
    assert QueryLogRecord.from_json(sink.sent[0][1]).request_id == "r0"
    assert tally.drops == {} and sink.closed


def test_publish_never_waits_for_a_stuck_broker_and_counts_what_it_drops() -> None:
    release = threading.Event()
    sink, tally = Sink(block=release), Tally()
    qlog = AsyncQueryLog(lambda: sink, queue_size=10, counters=tally)
    qlog.publish(_record("first"))
    assert sink.entered.wait(5)                  # the thread holds "first", stuck in the broker
    started = time.perf_counter()
    for i in range(1000):
        qlog.publish(_record(f"r{i}"))
    elapsed = time.perf_counter() - started
    assert elapsed < 0.5, f"1000 publishes took {elapsed:.3f}s"
    assert qlog.queued == 10 and tally.drops == {"queue_full": 990}
    release.set()
    _wait(lambda: tally.sent == 11)
    qlog.close()
    assert [k for k, _ in sink.sent] == [b"first", *(f"r{i}".encode() for i in range(10))]


def test_an_unreachable_broker_is_retried_and_records_wait_in_the_queue() -> None:
    sink, tally = Sink(), Tally()
    attempts: list[float] = []

    def connect() -> Sink:
        attempts.append(time.monotonic())
        if len(attempts) < 3:
            raise BrokerError("no brokers available", retriable=True)
        return sink

    qlog = AsyncQueryLog(connect, queue_size=100, counters=tally, reconnect_s=0.05)
    for i in range(5):
        qlog.publish(_record(f"r{i}"))
    _wait(lambda: tally.sent == 5)
    qlog.close()
    assert len(attempts) == 3 and [k for k, _ in sink.sent] == [f"r{i}".encode() for i in range(5)]
    assert tally.drops == {}


def test_refused_records_and_records_left_at_close_are_counted() -> None:
    tally = Tally()
    qlog = AsyncQueryLog(lambda: Sink(fail=RuntimeError("NotLeaderForPartition")), counters=tally)
    qlog.publish(_record())
    _wait(lambda: tally.drops.get("broker_error") == 1)
    qlog.close()
    assert tally.sent == 0

    down, tally = Tally(), Tally()
    qlog = AsyncQueryLog(lambda: (_ for _ in ()).throw(BrokerError("down", retriable=True)), counters=down,
                         reconnect_s=30)
    for _ in range(4):
        qlog.publish(_record())
    time.sleep(0.2)
    started = time.monotonic()
    qlog.close(timeout_s=0.5)
    assert time.monotonic() - started < 2.0                   # closing never waits for the broker's backoff
    assert down.drops == {"shutdown": 4} and down.sent == 0


def test_an_unexpected_sink_error_drops_one_record_and_the_thread_goes_on() -> None:
    sink, tally, calls = Sink(), Tally(), []

    def connect() -> Sink:
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("Unrecognized configs")          # a bug, not a broker fault
        return sink

    qlog = AsyncQueryLog(connect, counters=tally, reconnect_s=0.05)
    qlog.publish(_record("lost"))
    _wait(lambda: tally.drops.get("broker_error") == 1)
    qlog.publish(_record("kept"))
    _wait(lambda: tally.sent == 1)
    qlog.close()
    assert [k for k, _ in sink.sent] == [b"kept"]
