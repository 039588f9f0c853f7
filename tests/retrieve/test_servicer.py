"""SearchServicer maps proto <-> domain only: every field both ways, error codes, the deadline passed through.

Direct calls with a fake context, then the same servicer behind a real in-process gRPC server (fake searcher, so no
Milvus) reached through ``SearchClient``: retries, typed errors, health, reflection, undecodable requests.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import replace

import grpc
import pytest

from catalog_search.core.errors import EmbeddingError, RerankError, StoreError
from catalog_search.app.localstack import free_port
from catalog_search.core.settings import load_settings
from catalog_search.retrieve.client import InvalidSearch, SearchClient, SearchError, SearchUnavailable, build_request, \
    parse_facet, response_to_dict
from catalog_search.retrieve.domain import (CategoryFilter, Facet, FacetRequest, FacetValue, Hit, InvalidRequest,
                                            ResultSet, SearchFilters, SearchRequest, SearchResponse, StageScores)
from catalog_search.retrieve.proto import search_pb2 as pb
from catalog_search.retrieve.servicer import (SERVICE_NAME, SearchServicer, request_from_proto, request_to_proto,
                                              response_from_proto, response_to_proto)

HIT_FULL = Hit(sku="EN-1", title="Drill", brand="Bosch", category="Tools > Drills", price=99.5, currency="USD",
               in_stock=True, score=0.91, scores=StageScores(dense=0.8, bm25=7.25, fused=0.032, rerank=0.91))
HIT_SPARSE = Hit(sku="ZH-2", title="电钻 20V", brand="博世", category="工具 > 电钻", price=0.0, currency="CNY",
                 in_stock=False, score=0.016, scores=StageScores(dense=None, bm25=3.0, fused=0.016, rerank=None))
RESPONSE = SearchResponse(hits=[HIT_FULL, HIT_SPARSE], degraded=True, degraded_reason="rerank: timed out",
                          timings_ms={"embed": 3.5, "dense": 1.25, "rerank": 40.0},
                          models={"embedding": "e5", "reranker": "Qwen/Qwen3-Reranker-0.6B"},
                          request_id="0f3c9a", corrected_query="cordless drill")


class Aborted(Exception):
    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(code, details)
        self.code, self.details = code, details


class FakeContext:
    def __init__(self, remaining: float | None = None) -> None:
        self.deadline = None if remaining is None else time.monotonic() + remaining
        self.trailing: tuple = ()

    def set_trailing_metadata(self, metadata: tuple) -> None:
        self.trailing = tuple(metadata)

    def time_remaining(self) -> float | None:
        return None if self.deadline is None else max(0.0, self.deadline - time.monotonic())

    def abort(self, code: grpc.StatusCode, details: str) -> None:
        raise Aborted(code, details)


class FakeSearcher:
    def __init__(self, response: SearchResponse = RESPONSE, error: Exception | None = None,
                 delay_s: float = 0.0) -> None:
        self.response, self.error, self.delay_s = response, error, delay_s
        self.requests: list[SearchRequest] = []
        self.time_left: list[float | None] = []
        self.calls = 0
        self.closed = False

    def search(self, req, *, time_left_s=None):
        self.calls += 1
        self.requests.append(req)
        self.time_left.append(None if time_left_s is None else time_left_s())
        if self.delay_s:
            time.sleep(self.delay_s)
        if self.error is not None:
            raise self.error
        return self.response

    def close(self) -> None:
        self.closed = True


def call(searcher, msg, remaining=None):
    return SearchServicer(searcher, default_candidates=77).Search(msg, FakeContext(remaining))


# ------------------------------------------------------------------------------------------------------ request

def test_every_request_field_reaches_the_domain():
    msg = pb.SearchRequest(
        query="  red Drill ", top_k=25, rerank=False, candidates=300, instruction="find tools", spell_correct=False,
        filters=pb.SearchFilters(categories=[pb.CategoryFilter(path="Tools > Drills", prefix=True),
                                             pb.CategoryFilter(path="工具", prefix=False)],
                                 brands=["Bosch", "Makita"], price_min=0.0, price_max=150.5, in_stock_only=True,
                                 locale="en-US", tenant="outlet"))
    assert request_from_proto(msg, default_candidates=77) == SearchRequest(
        query="  red Drill ", top_k=25, rerank=False, candidates=300, instruction="find tools", spell_correct=False,
        filters=SearchFilters(categories=(CategoryFilter("Tools > Drills", True), CategoryFilter("工具", False)),
                              brands=("Bosch", "Makita"), price_min=0.0, price_max=150.5, in_stock_only=True,
                              locale="en-US", tenant="outlet"))


def test_the_knobs_grouping_facets_pages_and_sort_reach_the_domain():
    msg = pb.SearchRequest(query="q", fusion="rrf", alpha=0.0, retrievers="bm25", group_by="group_id", page_size=20,
                           page_token="tok", sort="price_desc",
                           facets=[pb.FacetRequest(field="brand"), pb.FacetRequest(field="category", level=2, size=5),
                                   pb.FacetRequest(field="price", ranges=[10.0, 20.5])])
    req = request_from_proto(msg, default_candidates=77)
    assert (req.fusion, req.alpha, req.retrievers, req.group_by) == ("rrf", 0.0, "bm25", "group_id")
    assert (req.page_size, req.page_token, req.sort) == (20, "tok", "price_desc")
    assert req.facets == (FacetRequest("brand"), FacetRequest("category", level=2, size=5),
                          FacetRequest("price", ranges=(10.0, 20.5)))
    assert request_from_proto(request_to_proto(req), default_candidates=1) == req


def test_unknown_knob_values_pass_through_for_the_searcher_to_refuse():
    req = request_from_proto(pb.SearchRequest(query="q", fusion="max", retrievers="sparse", sort="cheapest",
                                              group_by="brand", facets=[pb.FacetRequest(field="colour")]),
                             default_candidates=1)
    assert (req.fusion, req.retrievers, req.sort, req.group_by, req.facets[0].field) == \
        ("max", "sparse", "cheapest", "brand", "colour")


def test_unset_fields_take_the_documented_defaults():
    req = request_from_proto(pb.SearchRequest(query="q"), default_candidates=77)
    assert req == SearchRequest(query="q", top_k=10, candidates=77, rerank=True, instruction=None,
                                filters=SearchFilters(), spell_correct=None)
    assert (req.fusion, req.alpha, req.retrievers, req.group_by, req.facets, req.page_size, req.page_token,
            req.sort) == (None, None, "both", None, (), 0, "", "relevance") and not req.shaped
    assert req.filters.price_min is None and req.filters.locale is None and req.filters.tenant is None


def test_explicit_zero_price_and_empty_instruction_are_kept_distinct_from_unset():
    msg = pb.SearchRequest(query="q", instruction="", filters=pb.SearchFilters(price_min=0.0, price_max=0.0))
    req = request_from_proto(msg, default_candidates=1)
    assert req.instruction == "" and req.filters.price_min == 0.0 and req.filters.price_max == 0.0


def test_no_validation_in_the_mapping_out_of_range_values_reach_the_searcher():
    msg = pb.SearchRequest(query="", top_k=101, candidates=5000, filters=pb.SearchFilters(
        price_min=9.0, price_max=1.0, brands=[""], categories=[pb.CategoryFilter(path="")]))
    fake = FakeSearcher()
    call(fake, msg)
    req = fake.requests[0]
    assert (req.query, req.top_k, req.candidates) == ("", 101, 5000)
    assert (req.filters.price_min, req.filters.price_max, req.filters.brands) == (9.0, 1.0, ("",))


def test_domain_request_round_trips_through_the_wire():
    req = SearchRequest(query="q", top_k=3, rerank=False, candidates=50, instruction="i", spell_correct=True,
                        filters=SearchFilters(categories=(CategoryFilter("A > B", False),), brands=("x",),
                                              price_min=1.0, price_max=None, in_stock_only=True, locale="de-DE",
                                              tenant="t"))
    msg = build_request("q", top_k=3, categories=[CategoryFilter("A > B", False)], brands=["x"], price_min=1.0,
                        in_stock_only=True, locale="de-DE", tenant="t", rerank=False, candidates=50, instruction="i",
                        spell_correct=True)
    wire = pb.SearchRequest.FromString(msg.SerializeToString())        # the public client's request, on the wire
    assert request_from_proto(wire, default_candidates=1) == req


def test_client_arguments_become_the_wire_request():
    msg = build_request("q", top_k=5, categories=["Apparel > Men", CategoryFilter("Toys", prefix=False)],
                        brands="Uniqlo", price_min=1, price_max=None, in_stock_only=True, locale="en-US",
                        tenant=None, rerank=False, candidates=None, instruction="x")
    req = request_from_proto(msg, default_candidates=77)
    assert req.filters.categories == (CategoryFilter("Apparel > Men", True), CategoryFilter("Toys", False))
    assert req.filters.brands == ("Uniqlo",) and req.filters.price_min == 1.0 and req.filters.price_max is None
    assert (req.top_k, req.rerank, req.candidates, req.instruction) == (5, False, 77, "x")
    assert req.filters.tenant is None and req.filters.locale == "en-US" and req.filters.in_stock_only
    assert request_from_proto(build_request("q", categories="A > B"), default_candidates=1).filters.categories == \
        (CategoryFilter("A > B", True),)


def test_client_knobs_and_facet_texts_become_the_wire_request():
    msg = build_request("q", fusion="weighted", alpha=1, retrievers="dense", group_by="group_id", page_size=3,
                        page_token="t", sort="newest", facets=["brand", "category:3", "price:5,10", "in_stock",
                                                                FacetRequest("locale", size=2)])
    req = request_from_proto(msg, default_candidates=1)
    assert (req.fusion, req.alpha, req.retrievers, req.group_by, req.page_size, req.page_token, req.sort) == \
        ("weighted", 1.0, "dense", "group_id", 3, "t", "newest")
    assert [f.name for f in req.facets] == ["brand", "category:3", "price", "in_stock", "locale"]
    assert req.facets[2].ranges == (5.0, 10.0) and req.facets[4].size == 2
    assert request_from_proto(build_request("q", facets="brand"), default_candidates=1).facets == (FacetRequest("brand"),)
    assert parse_facet(" category ") == FacetRequest("category")


@pytest.mark.parametrize("kwargs, field", [
    ({"top_k": -1}, "top_k"), ({"page_size": -1}, "page_size"), ({"alpha": "0.5"}, "alpha"),
    ({"facets": ["category:two"]}, "facets[0]"), ({"facets": ["brand", "price:1,x"]}, "facets[1]"),
    ({"facets": ["brand:Sony"]}, "facets[0]"), ({"facets": [3]}, "facets[0]"),
    ({"facets": [FacetRequest("category", level=-1)]}, "facets[0].level"), ({"sort": "\ud800"}, "sort"), ({"candidates": -5}, "candidates"), ({"top_k": 2**40}, "top_k"),
    ({"top_k": 1.5}, "top_k"), ({"brands": ["ok", "bad\ud800"]}, "filters.brands[1]"),
    ({"categories": ["\udfff"]}, "filters.categories[0]"), ({"tenant": "\ud83d"}, "tenant"),
    ({"price_min": "10"}, "filters.price_min"), ({"locale": 5}, "locale"),
])
def test_values_the_wire_cannot_carry_are_invalid_search_naming_the_field(kwargs, field):
    with pytest.raises(InvalidSearch) as info:
        build_request("q", **kwargs)
    assert info.value.message.startswith(field + ":") and info.value.code == grpc.StatusCode.INVALID_ARGUMENT


# ----------------------------------------------------------------------------------------------------- response

def test_every_response_field_reaches_the_wire_and_back():
    msg = call(FakeSearcher(), pb.SearchRequest(query="q"))
    wire = pb.SearchResponse.FromString(msg.SerializeToString())
    assert [h.sku for h in wire.hits] == ["EN-1", "ZH-2"]
    first, second = wire.hits
    assert (first.title, first.brand, first.category, first.price, first.currency, first.in_stock, first.score) == \
        ("Drill", "Bosch", "Tools > Drills", 99.5, "USD", True, 0.91)
    assert first.scores.HasField("dense") and first.scores.HasField("rerank") and first.scores.bm25 == 7.25
    assert not second.scores.HasField("dense") and not second.scores.HasField("rerank")
    assert second.scores.HasField("bm25") and second.scores.fused == 0.016 and not second.in_stock
    assert wire.degraded and wire.degraded_reason == "rerank: timed out"
    assert dict(wire.timings_ms) == RESPONSE.timings_ms and dict(wire.models) == RESPONSE.models
    assert (wire.request_id, wire.corrected_query) == ("0f3c9a", "cordless drill")
    assert response_from_proto(wire) == RESPONSE


SHAPED = SearchResponse(
    hits=[replace(HIT_FULL, group_id="DRILLS", variant_count=3, variant_skus=("EN-1", "EN-2", "EN-3")),
          replace(HIT_SPARSE, group_id="ZH-2")],
    facets=(Facet("brand", 1, (FacetValue("Bosch", 3), FacetValue("博世", 1)), counted=4, own_filter_removed=True),
            Facet("price", 1, (FacetValue("0-25", 1, 0.0, 25.0), FacetValue("1000+", 2, 1000.0, None)), counted=4),
            Facet("category", 2, (), counted=0)),
    next_page_token="abc.def",
    result_set=ResultSet(depth=200, products=57, size=31, offset=20, sort="price_asc", group_by="group_id",
                         description="the 57 most relevant products ..."))


def test_grouped_hits_facets_page_token_and_result_set_reach_the_wire_and_back():
    wire = pb.SearchResponse.FromString(call(FakeSearcher(SHAPED), pb.SearchRequest(query="q")).SerializeToString())
    assert list(wire.hits[0].variant_skus) == ["EN-1", "EN-2", "EN-3"] and wire.hits[0].variant_count == 3
    assert wire.facets[1].values[1].HasField("low") and not wire.facets[1].values[1].HasField("high")
    assert not wire.facets[0].values[0].HasField("low") and wire.next_page_token == "abc.def"
    assert wire.result_set.offset == 20 and wire.HasField("result_set")
    assert response_from_proto(wire) == SHAPED
    assert response_from_proto(response_to_proto(RESPONSE)).result_set is None      # a plain answer has none


def test_empty_response_and_zero_scores_survive():
    resp = SearchResponse(hits=[replace(HIT_FULL, score=0.0, scores=StageScores(dense=0.0, bm25=0.0, fused=0.0,
                                                                                  rerank=0.0))])
    back = response_from_proto(response_to_proto(resp))
    assert back == resp and back.hits[0].scores.dense == 0.0 and back.hits[0].scores.rerank == 0.0
    assert response_from_proto(response_to_proto(SearchResponse(hits=[]))) == SearchResponse(hits=[])


# ------------------------------------------------------------------------------------------------- errors, deadline

@pytest.mark.parametrize("error, code", [
    (InvalidRequest("top_k", "must be between 1 and 100"), grpc.StatusCode.INVALID_ARGUMENT),
    (StoreError("milvus down", retriable=True), grpc.StatusCode.UNAVAILABLE),
    (EmbeddingError("embedder timeout", retriable=True), grpc.StatusCode.UNAVAILABLE),
    (StoreError("schema mismatch", retriable=False), grpc.StatusCode.INTERNAL),
    (EmbeddingError("bad request", retriable=False), grpc.StatusCode.INTERNAL),
    (RerankError("leaked", retriable=True), grpc.StatusCode.UNAVAILABLE),
    (RuntimeError("secret detail"), grpc.StatusCode.INTERNAL),
])
def test_error_mapping(error, code):
    with pytest.raises(Aborted) as info:
        call(FakeSearcher(error=error), pb.SearchRequest(query="q"))
    assert info.value.code == code
    if isinstance(error, InvalidRequest):
        assert info.value.details == "top_k: must be between 1 and 100"
    elif isinstance(error, RuntimeError):
        assert "secret" not in info.value.details
    else:
        assert str(error) in info.value.details


def test_a_retriable_fault_after_the_deadline_passed_is_deadline_exceeded_not_unavailable():
    with pytest.raises(Aborted) as info:
        call(FakeSearcher(error=StoreError("deadline exceeded before count", retriable=True)),
             pb.SearchRequest(query="q"), remaining=0.0)
    assert info.value.code == grpc.StatusCode.DEADLINE_EXCEEDED
    with pytest.raises(Aborted) as info:                       # a permanent fault stays INTERNAL
        call(FakeSearcher(error=StoreError("schema", retriable=False)), pb.SearchRequest(query="q"), remaining=0.0)
    assert info.value.code == grpc.StatusCode.INTERNAL


def test_no_time_left_for_a_store_call_is_deadline_exceeded_even_with_milliseconds_left():
    """Regression (issue 10 part 7): the searcher keeps a margin back from the deadline at each store call; running
    into it is the caller's deadline, not a backend down (UNAVAILABLE would invite a pointless retry)."""
    from catalog_search.core.errors import NoTimeLeftError
    with pytest.raises(Aborted) as info:
        call(FakeSearcher(error=NoTimeLeftError("no time left for alias (deadline in 1 ms)")),
             pb.SearchRequest(query="q"), remaining=0.001)
    assert info.value.code == grpc.StatusCode.DEADLINE_EXCEEDED
    with pytest.raises(Aborted) as info:                       # Milvus itself timing out with time left: down
        call(FakeSearcher(error=StoreError("milvus search failed: DEADLINE_EXCEEDED", retriable=True)),
             pb.SearchRequest(query="q"), remaining=0.05)
    assert info.value.code == grpc.StatusCode.UNAVAILABLE


def test_deadline_is_passed_through_as_a_live_callable():
    fake = FakeSearcher()
    call(fake, pb.SearchRequest(query="q"), remaining=1.5)
    assert 1.0 < fake.time_left[0] <= 1.5
    call(fake, pb.SearchRequest(query="q"), remaining=None)
    assert fake.time_left[1] is None


# ------------------------------------------------------------------------------------- real in-process gRPC server

@pytest.fixture
def running():
    """Start a server on a free port around a FakeSearcher; yields (server handle, fake, address)."""
    from catalog_search.retrieve.server import start
    handles = []

    def make(fake=None):
        fake = fake or FakeSearcher()
        address = f"127.0.0.1:{free_port()}"
        handle = start(load_settings(grpc_address=address), fake)
        handles.append(handle)
        return handle, fake, address

    yield make
    for handle in handles:
        handle.stop(0)


def test_client_gets_domain_objects_and_the_server_sees_the_deadline(running):
    _, fake, address = running()
    with SearchClient(address, timeout_s=3.0) as client:
        resp = client.search("q", top_k=0, categories=["Tools"], brands=["Bosch"], price_min=1.0, rerank=False,
                             timeout_s=2.0)
    assert resp == RESPONSE and isinstance(resp.hits[0], Hit)
    req = fake.requests[0]
    assert req.top_k == 10 and req.rerank is False and req.candidates == 100   # settings.search.candidates
    assert req.filters.categories == (CategoryFilter("Tools", True),) and req.filters.brands == ("Bosch",)
    assert 0.0 < fake.time_left[0] <= 2.5     # the per-call 2 s deadline (± clock granularity), not the 3 s default


@pytest.mark.parametrize("error, cls, code", [
    (InvalidRequest("filters.price_min", "must be <= price_max"), InvalidSearch, grpc.StatusCode.INVALID_ARGUMENT),
    (StoreError("schema", retriable=False), SearchError, grpc.StatusCode.INTERNAL),
])
def test_client_raises_typed_errors_with_the_server_message_without_retrying(running, error, cls, code):
    _, fake, address = running(FakeSearcher(error=error))
    with SearchClient(address, retries=3) as client, pytest.raises(cls) as info:
        client.search("q")
    assert info.value.code == code and str(error) in info.value.message and fake.calls == 1


def test_client_retries_unavailable_a_bounded_number_of_times(running):
    _, fake, address = running(FakeSearcher(error=StoreError("milvus restarting", retriable=True)))
    with SearchClient(address, retries=2, timeout_s=5.0) as client, pytest.raises(SearchUnavailable) as info:
        client.search("q")
    assert fake.calls == 3 and info.value.attempts == 3 and "milvus restarting" in info.value.message


def test_unavailable_then_success(running):
    class Flaky(FakeSearcher):
        def search(self, req, *, time_left_s=None):
            self.calls += 1
            if self.calls < 3:
                raise StoreError("blip", retriable=True)
            return self.response

    _, fake, address = running(Flaky())
    with SearchClient(address, retries=2) as client:
        assert client.search("q") == RESPONSE
    assert fake.calls == 3


def test_client_deadline_exceeded_is_a_search_error(running):
    _, _, address = running(FakeSearcher(delay_s=1.0))
    started = time.monotonic()
    with SearchClient(address) as client, pytest.raises(SearchError) as info:
        client.search("q", timeout_s=0.3)
    assert info.value.code == grpc.StatusCode.DEADLINE_EXCEEDED and time.monotonic() - started < 0.9


def test_undecodable_request_is_invalid_argument_not_internal(running):
    _, fake, address = running()
    with grpc.insecure_channel(address) as channel:
        raw = channel.unary_unary(f"/{SERVICE_NAME}/Search", request_serializer=lambda b: b,
                                  response_deserializer=lambda b: b)
        with pytest.raises(grpc.RpcError) as info:
            raw(b"\x0a\x02\xff\xfe", timeout=2)          # field 1 (query) = invalid UTF-8
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT and fake.calls == 0


def test_health_reflection_and_graceful_stop(running):
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    handle, fake, address = running()
    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        for name in ("", SERVICE_NAME):
            assert stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=2).status == \
                health_pb2.HealthCheckResponse.SERVING
        refl = reflection_pb2_grpc.ServerReflectionStub(channel)
        answer = next(refl.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]),
                                                timeout=2))
        assert SERVICE_NAME in {s.name for s in answer.list_services_response.service}
    # an in-flight request finishes during the grace period; the searcher passed in is not ours to close
    fake.delay_s = 0.5
    result: list[object] = []
    with SearchClient(address, timeout_s=5) as client:
        worker = threading.Thread(target=lambda: result.append(client.search("q")))
        worker.start()
        time.sleep(0.2)
        handle.stop(3.0)
        worker.join(5)
    assert result == [RESPONSE] and not fake.closed


def test_json_rendering():
    data = response_to_dict(RESPONSE)
    assert set(data) == {"hits", "facets", "next_page_token", "degraded", "degraded_reason", "timings_ms", "models",
                         "request_id", "corrected_query"}
    assert (data["request_id"], data["corrected_query"]) == ("0f3c9a", "cordless drill")
    assert data["hits"][1]["scores"] == {"dense": None, "bm25": 3.0, "fused": 0.016, "rerank": None}
    assert not math.isnan(data["hits"][0]["score"])
    assert data["facets"] == {} and data["next_page_token"] == "" and data["hits"][0]["group_id"] == ""
    shaped = response_to_dict(SHAPED)
    assert [h["rank"] for h in shaped["hits"]] == [21, 22]                          # ranks count from the offset
    assert shaped["hits"][0]["variant_skus"] == ["EN-1", "EN-2", "EN-3"] and "variant_skus" not in shaped["hits"][1]
    assert (shaped["hits"][0]["group_id"], shaped["hits"][0]["variant_count"]) == ("DRILLS", 3)
    assert shaped["facets"] == {
        "brand": [{"value": "Bosch", "count": 3}, {"value": "博世", "count": 1}],
        "price": [{"value": "0-25", "count": 1, "from": 0.0, "to": 25.0},
                  {"value": "1000+", "count": 2, "from": 1000.0, "to": None}],
        "category:2": []}
    assert shaped["next_page_token"] == "abc.def" and shaped["result_set"]["size"] == 31
    assert shaped["result_set"]["facets_own_filter_removed"] == ["brand"]


def test_start_serves_on_the_configured_address_and_rejects_a_busy_one():
    from catalog_search.core.errors import ConfigError
    from catalog_search.retrieve.server import start

    address = f"127.0.0.1:{free_port()}"
    settings = load_settings(grpc_address=address)
    handle = start(settings, FakeSearcher())                   # address defaults to settings.grpc.address
    try:
        assert isinstance(handle.server, grpc.Server) and handle.address == address
        with SearchClient(address) as client:
            assert client.search("q") == RESPONSE
        with pytest.raises(ConfigError, match="cannot listen on"):
            start(settings, FakeSearcher())
    finally:
        handle.stop(0)
