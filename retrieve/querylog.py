"""The query log: one record per answered search, published in the background so it never slows or fails a search.

``QueryLogRecord`` is the record (JSON, one per Kafka message on ``CATALOG_QUERYLOG_TOPIC``, keyed by request id;
``catalog-search querylog export`` writes them as JSON Lines, ``catalog-search eval --replay`` reads that file):

    {"v": 1, "request_id": "…", "ts_ms": 1767225600000, "collection": "catalog_products_v1",
     "query": "cordles drill", "corrected_query": "cordless drill",
     "filters": {"categories": [{"path": "Tools", "prefix": true}], "brands": [], "price_min": null, …},
     "options": {"top_k": 10, "rerank": true, "candidates": 100, "fusion": null, "alpha": null, …},
     "hits": [{"sku": "…", "score": 0.93, "dense": 0.81, "bm25": 7.2, "fused": 0.93, "rerank": null}, …],
     "degraded": false, "degraded_reason": "", "timings_ms": {"embed": 3.1, …, "total": 21.4},
     "models": {"embedding": "…", "reranker": "none"}}

``options`` holds every ``SearchRequest`` field but ``query`` and ``filters``, so a field added to the request is
logged (and replayed) without touching this module.

``AsyncQueryLog`` is what the searcher publishes to: ``publish`` only puts the record on a bounded queue (a full
queue drops it, counted); one background thread connects the sink (Kafka, built by the app shell, lazily: a broker
that is down at start delays nothing), hands records over and counts what the broker acknowledged or refused. While
the broker is unreachable the thread holds its record and retries the connection every ``reconnect_s``; the queue
fills and later records are dropped, counted — the searches never wait.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, Protocol

from catalog_search.core.errors import BackendError
from catalog_search.retrieve.domain import CategoryFilter, FacetRequest, SearchFilters, SearchRequest, SearchResponse

log = logging.getLogger(__name__)

RECORD_VERSION = 1
RECONNECT_S = 5.0
CLOSE_FLUSH_S = 2.0
_REQUEST_FIELDS = {f.name: f for f in fields(SearchRequest)}
_FILTER_FIELDS = {f.name for f in fields(SearchFilters)}


class InvalidRecord(ValueError):
    """A query-log line that is not a record of this version."""


@dataclass(frozen=True)
class LoggedHit:
    sku: str
    score: float
    dense: float | None = None
    bm25: float | None = None
    fused: float = 0.0
    rerank: float | None = None
    group_id: str = ""                  # grouped answers: the hit's variant group
    variant_count: int = 0


@dataclass(frozen=True)
class QueryLogRecord:
    request_id: str
    ts_ms: int
    query: str
    collection: str = ""
    corrected_query: str = ""
    filters: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    hits: list[LoggedHit] = field(default_factory=list)
    degraded: bool = False
    degraded_reason: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict)
    models: dict[str, str] = field(default_factory=dict)

    @property
    def skus(self) -> list[str]:
        return [h.sku for h in self.hits]

    def to_dict(self) -> dict[str, Any]:
        # by hand: dataclasses.asdict deep-copies every value, the main cost of a record on the publisher's thread
        return {"v": RECORD_VERSION, "request_id": self.request_id, "ts_ms": self.ts_ms, "query": self.query,
                "collection": self.collection, "corrected_query": self.corrected_query, "filters": self.filters,
                "options": self.options,
                "hits": [{"sku": h.sku, "score": h.score, "dense": h.dense, "bm25": h.bm25, "fused": h.fused,
                          "rerank": h.rerank, "group_id": h.group_id, "variant_count": h.variant_count}
                         for h in self.hits],
                "degraded": self.degraded, "degraded_reason": self.degraded_reason, "timings_ms": self.timings_ms,
                "models": self.models}

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_dict(cls, data: Any) -> "QueryLogRecord":
        if not isinstance(data, dict):
            raise InvalidRecord(f"expected a JSON object, got {type(data).__name__}")
        if data.get("v") != RECORD_VERSION:
            raise InvalidRecord(f"unknown record version {data.get('v')!r} (expected {RECORD_VERSION})")
        for key, kind in (("request_id", str), ("query", str), ("ts_ms", int)):
            if not isinstance(data.get(key), kind):
                raise InvalidRecord(f"missing or invalid {key!r}")
        try:
            hits = [LoggedHit(**h) for h in data.get("hits", [])]
            return cls(request_id=data["request_id"], ts_ms=data["ts_ms"], query=data["query"],
                       collection=str(data.get("collection", "")),
                       corrected_query=str(data.get("corrected_query", "")),
                       filters=dict(data.get("filters", {})), options=dict(data.get("options", {})), hits=hits,
                       degraded=bool(data.get("degraded", False)),
                       degraded_reason=str(data.get("degraded_reason", "")),
                       timings_ms={str(k): float(v) for k, v in dict(data.get("timings_ms", {})).items()},
                       models={str(k): str(v) for k, v in dict(data.get("models", {})).items()})
        except (TypeError, ValueError) as exc:
            raise InvalidRecord(f"malformed record: {exc}") from None

    @classmethod
    def from_json(cls, line: bytes | str) -> "QueryLogRecord":
        try:
            return cls.from_dict(json.loads(line))
        except json.JSONDecodeError as exc:
            raise InvalidRecord(f"not valid JSON: {exc}") from None

    def request(self, **overrides: Any) -> SearchRequest:
        """The logged request, to replay it (``overrides``: request fields a replay changes, e.g. ``fusion``)."""
        options = {k: _restore(k, v) for k, v in self.options.items() if k in _REQUEST_FIELDS}
        return SearchRequest(query=self.query, filters=filters_from_dict(self.filters), **{**options, **overrides})


def record_of(req: SearchRequest, resp: SearchResponse, *, request_id: str, collection: str,
              ts_ms: int) -> QueryLogRecord:
    """The record of an answered search (cheap: no serialisation; that happens on the publisher's thread)."""
    options = {name: _jsonable(getattr(req, name)) for name in _REQUEST_FIELDS if name not in ("query", "filters")}
    hits = [LoggedHit(sku=h.sku, score=h.score, dense=h.scores.dense, bm25=h.scores.bm25, fused=h.scores.fused,
                      rerank=h.scores.rerank, group_id=h.group_id, variant_count=h.variant_count)
            for h in resp.hits]
    return QueryLogRecord(request_id=request_id, ts_ms=ts_ms, query=req.query, collection=collection,
                          corrected_query=getattr(resp, "corrected_query", ""), filters=_jsonable(req.filters),
                          options=options, hits=hits, degraded=resp.degraded, degraded_reason=resp.degraded_reason,
                          timings_ms=dict(resp.timings_ms), models=dict(resp.models))


def filters_from_dict(data: Mapping[str, Any]) -> SearchFilters:
    values: dict[str, Any] = {k: v for k, v in data.items() if k in _FILTER_FIELDS}
    if "categories" in values:
        values["categories"] = tuple(CategoryFilter(**c) for c in values["categories"])
    if "brands" in values:
        values["brands"] = tuple(values["brands"])
    return SearchFilters(**values)


def _jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def _restore(name: str, value: Any) -> Any:
    """A logged option back in the type of the request field (lists were tuples, facets ``FacetRequest``s)."""
    if name == "facets" and isinstance(value, list):
        return tuple(FacetRequest(**{**f, "ranges": tuple(f.get("ranges", ()))}) for f in value)
    default = _REQUEST_FIELDS[name].default
    return tuple(value) if isinstance(value, list) and isinstance(default, tuple) else value


# --------------------------------------------------------------------------------------------------- publishing

Done = Callable[[BaseException | None], None]


class QueryLogSink(Protocol):
    """Where records go (Kafka in ``adapters/kafka.py``). ``send`` hands one over and returns (``on_done`` is called
    later with None or the broker's error); a record that cannot even be handed over raises ``BackendError``."""

    def send(self, key: bytes, value: bytes, on_done: Done) -> None: ...

    def flush(self, timeout_s: float) -> None: ...

    def close(self) -> None: ...


class QueryLogCounters(Protocol):
    """What the publisher counts (``retrieve.metrics.SearchMetrics`` implements it with Prometheus)."""

    def published(self) -> None: ...

    def dropped(self, reason: str) -> None: ...


class QueryLog(Protocol):
    """What the searcher publishes to: never blocks, never raises."""

    def publish(self, record: QueryLogRecord) -> None: ...

    def close(self) -> None: ...


class Tally:
    """In-process counters (tests, and the default when no metrics are given)."""

    def __init__(self) -> None:
        self.sent = 0
        self.drops: dict[str, int] = {}
        self._lock = threading.Lock()

    def published(self) -> None:
        with self._lock:
            self.sent += 1

    def dropped(self, reason: str) -> None:
        with self._lock:
            self.drops[reason] = self.drops.get(reason, 0) + 1


class AsyncQueryLog:
    """A bounded queue and one background thread in front of a ``QueryLogSink`` (see the module docstring).

    Drop reasons: ``queue_full`` (publish found the queue full), ``broker_error`` (the broker refused or did not
    acknowledge a record in time), ``unserializable`` (a record that is not JSON), ``shutdown`` (left when closed).
    """

    def __init__(self, connect: Callable[[], QueryLogSink], *, queue_size: int = 10_000,
                 counters: QueryLogCounters | None = None, reconnect_s: float = RECONNECT_S) -> None:
        if queue_size < 1:
            raise ValueError("queue_size must be >= 1")
        self._connect = connect
        self._queue: queue.Queue[QueryLogRecord] = queue.Queue(maxsize=queue_size)
        self.counters = counters or Tally()
        self.reconnect_s = reconnect_s
        self._sink: QueryLogSink | None = None
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._run, name="querylog", daemon=True)
        self._thread.start()

    def publish(self, record: QueryLogRecord) -> None:
        try:
            self._queue.put_nowait(record)
        except queue.Full:
            self.counters.dropped("queue_full")

    @property
    def queued(self) -> int:
        return self._queue.qsize()

    def close(self, timeout_s: float = CLOSE_FLUSH_S) -> None:
        """Send what is queued for up to ``timeout_s``, then stop; what is left is dropped (``shutdown``)."""
        if self._closing.is_set():
            return
        self._closing.set()
        self._thread.join(timeout_s)
        left = 0
        while True:
            try:
                self._queue.get_nowait()
                left += 1
            except queue.Empty:
                break
        for _ in range(left):
            self.counters.dropped("shutdown")
        sink, self._sink = self._sink, None
        if sink is not None:
            try:
                sink.flush(max(0.1, timeout_s / 2))
                sink.close()
            except Exception as exc:  # noqa: BLE001 - closing must not fail shutdown
                log.debug("closing the query-log sink: %s", exc)

    # -- the background thread ----------------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            try:
                record = self._queue.get(timeout=0.1)
            except queue.Empty:
                if self._closing.is_set():
                    return
                continue
            self._deliver(record)
            time.sleep(0)        # hand the GIL over between records: a search thread back from I/O waits less

    def _deliver(self, record: QueryLogRecord) -> None:
        try:
            value = record.to_json()
        except (TypeError, ValueError) as exc:
            log.warning("query-log record %s is not JSON: %s", record.request_id, exc)
            self.counters.dropped("unserializable")
            return
        while True:
            try:
                sink = self._sink or self._open()
                sink.send(record.request_id.encode("utf-8"), value, self._done)
                return
            except BackendError as exc:
                if not exc.retriable:
                    self.counters.dropped("broker_error")
                    return
                if self._closing.is_set():
                    self.counters.dropped("shutdown")
                    return
                log.warning("query log: broker unavailable (%s); retrying in %.0fs, searches go on", exc,
                            self.reconnect_s)
                if self._closing.wait(self.reconnect_s):
                    self.counters.dropped("shutdown")
                    return
            except Exception:  # noqa: BLE001 - the publisher thread must outlive any sink bug; searches go on
                log.exception("query log: record %s not sent", record.request_id)
                self.counters.dropped("broker_error")
                self._closing.wait(self.reconnect_s)
                return

    def _open(self) -> QueryLogSink:
        self._sink = self._connect()
        return self._sink

    def _done(self, error: BaseException | None) -> None:
        if error is None:
            self.counters.published()
        else:
            log.debug("query-log record not acknowledged: %s", error)
            self.counters.dropped("broker_error")


def new_request_id() -> str:
    """A fresh request id (32 hex chars)."""
    return uuid.uuid4().hex


def now_ms() -> int:
    return int(time.time() * 1000)
