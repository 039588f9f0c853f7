"""The Rerank RPC: validation naming the field, the searcher's rerank stage (reranker, breaker, deadline) doing the
scoring, results best first with their input index, and the error codes — directly and over a real in-process gRPC
server through ``SearchClient.rerank`` (a fake reranker behind the real ``RerankStage``; no model, no Milvus)."""

from __future__ import annotations

import time
from collections.abc import Sequence

import grpc
import pytest

from catalog_search.app.localstack import free_port
from catalog_search.core.errors import RerankError, RerankTimeoutError, StoreError
from catalog_search.core.settings import load_settings
from catalog_search.rerank.breaker import CircuitBreaker
from catalog_search.rerank.stage import RerankStage
from catalog_search.retrieve.client import InvalidSearch, SearchClient, SearchError, SearchUnavailable
from catalog_search.retrieve.domain import InvalidRequest, SearchResponse
from catalog_search.retrieve.proto import search_pb2 as pb
from catalog_search.retrieve.reranking import (MAX_DOCUMENTS, DocumentReranker, NoReranker, RerankRequest,
                                               validate_rerank_request)
from catalog_search.retrieve.servicer import BACKEND_ERROR_KEY, SERVICE_NAME, SearchServicer


class WordOverlap:
    """A ``Reranker``: the share of the query's words found in the document (so the expected order is computable)."""

    model_id = "overlap-reranker"

    def __init__(self, error: Exception | None = None, delay_s: float = 0.0) -> None:
        self.error, self.delay_s = error, delay_s
        self.calls: list[tuple[str, list[str], str | None, float | None]] = []

    def rerank(self, query: str, documents: Sequence[str], *, instruction: str | None = None,
               timeout_s: float | None = None) -> list[float]:
        self.calls.append((query, list(documents), instruction, timeout_s))
        if self.delay_s:
            time.sleep(self.delay_s)
        if self.error is not None:
            raise self.error
        words = set(query.lower().split())
        return [len(words & set(d.lower().split())) / len(words) for d in documents]

    def close(self) -> None:
        pass


def stage(reranker=None, failures: int = 5) -> RerankStage:
    return RerankStage(reranker, breaker=CircuitBreaker(failures, 30.0), margin_s=0.05, instruction="judge it")


DOCS = ("a red cotton shirt", "wireless noise cancelling earbuds", "earbuds", "a garden hose")


# ------------------------------------------------------------------------------------------------- domain + stage

def test_results_are_best_first_with_their_index_and_ties_keep_the_input_order() -> None:
    fake = WordOverlap()
    resp = DocumentReranker(stage(fake)).rerank(RerankRequest("wireless earbuds", DOCS))
    assert [(r.index, r.score) for r in resp.results] == [(1, 1.0), (2, 0.5), (0, 0.0), (3, 0.0)]
    assert [r.document for r in resp.results] == [DOCS[1], DOCS[2], DOCS[0], DOCS[3]]
    assert resp.model == "overlap-reranker" and {"rerank", "total"} <= set(resp.timings_ms)
    assert fake.calls[0][2] == "judge it"              # the stage's instruction unless the request names one
    DocumentReranker(stage(fake)).rerank(RerankRequest("earbuds", DOCS, instruction="mine"))
    assert fake.calls[1][2] == "mine"


@pytest.mark.parametrize("req, field", [
    (RerankRequest("", DOCS), "query"),
    (RerankRequest("q", ()), "documents"),
    (RerankRequest("q", ("ok", "  ")), "documents[1]"),
    (RerankRequest("q", ("ok", "bad\x00")), "documents[1]"),
    (RerankRequest("q", ("x" * 9000,)), "documents[0]"),
    (RerankRequest("q", ("d",) * (MAX_DOCUMENTS + 1)), "documents"),
    (RerankRequest("q", DOCS, instruction=""), "instruction"),
])
def test_invalid_requests_name_the_field(req: RerankRequest, field: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        validate_rerank_request(req)
    assert info.value.field == field
    fake = WordOverlap()
    with pytest.raises(InvalidRequest):
        DocumentReranker(stage(fake)).rerank(req)
    assert fake.calls == []                            # refused before the reranker is called


def test_no_reranker_configured_is_its_own_error() -> None:
    for reranker in (DocumentReranker(None), DocumentReranker(stage(None))):
        assert not reranker.configured
        with pytest.raises(NoReranker):
            reranker.rerank(RerankRequest("q", DOCS))


def test_a_failing_reranker_is_a_retriable_rerank_error_and_counts_on_the_shared_breaker() -> None:
    fake = WordOverlap(error=RerankError("connection refused", retriable=True))
    shared = stage(fake, failures=2)
    reranker = DocumentReranker(shared)
    for _ in range(2):
        with pytest.raises(RerankError) as info:
            reranker.rerank(RerankRequest("q", DOCS))
        assert info.value.retriable and "reranker unavailable: connection refused" in str(info.value)
    assert shared.breaker.state == "open"              # the searches' breaker: they skip the reranker now too
    with pytest.raises(RerankError, match="circuit open"):
        reranker.rerank(RerankRequest("q", DOCS))
    assert len(fake.calls) == 2


def test_the_deadline_reaches_the_reranker_less_the_margin() -> None:
    fake = WordOverlap()
    DocumentReranker(stage(fake)).rerank(RerankRequest("q", DOCS), time_left_s=lambda: 1.0)
    assert fake.calls[0][3] == pytest.approx(0.95)
    with pytest.raises(RerankError, match="no time left"):
        DocumentReranker(stage(fake)).rerank(RerankRequest("q", DOCS), time_left_s=lambda: 0.01)


# ------------------------------------------------------------------------------------------------ real gRPC server

class FakeSearcher:
    def __init__(self, rerank_stage: RerankStage | None = None, error: Exception | None = None) -> None:
        self.rerank_stage, self.error = rerank_stage, error

    def search(self, req, *, time_left_s=None):
        if self.error is not None:
            raise self.error
        return SearchResponse(hits=[])


@pytest.fixture
def serve():
    from catalog_search.retrieve.server import start
    handles = []

    def make(searcher: FakeSearcher) -> str:
        address = f"127.0.0.1:{free_port()}"
        handles.append(start(load_settings(grpc_address=address), searcher))
        return address

    yield make
    for handle in handles:
        handle.stop(0)


def test_client_rerank_round_trip(serve) -> None:
    address = serve(FakeSearcher(stage(WordOverlap())))
    with SearchClient(address, timeout_s=5.0) as client:
        resp = client.rerank("wireless earbuds", list(DOCS))
        assert [r.index for r in resp.results] == [1, 2, 0, 3]
        assert resp.results[0].document == DOCS[1] and resp.results[0].score == 1.0
        assert resp.model == "overlap-reranker"
        assert client.health() == "SERVING"


def test_client_rerank_errors(serve) -> None:
    with SearchClient(serve(FakeSearcher(stage(WordOverlap()))), timeout_s=5.0) as client:
        with pytest.raises(InvalidSearch) as invalid:
            client.rerank("q", ["fine", ""])
        assert invalid.value.message.startswith("documents[1]:")
        with pytest.raises(InvalidSearch, match="documents: must be a list"):
            client.rerank("q", "one string")                                  # type: ignore[arg-type]
    with SearchClient(serve(FakeSearcher(stage(None))), timeout_s=5.0) as client:
        with pytest.raises(SearchError) as none:
            client.rerank("q", ["d"])
        assert none.value.code == grpc.StatusCode.FAILED_PRECONDITION and "no reranker" in none.value.message
    down = WordOverlap(error=RerankError("connection refused", retriable=True))
    with SearchClient(serve(FakeSearcher(stage(down, failures=100))), timeout_s=5.0, retries=1) as client:
        with pytest.raises(SearchUnavailable) as unavailable:
            client.rerank("q", ["d"])
        assert unavailable.value.backend == "RerankError" and "connection refused" in unavailable.value.message
        assert unavailable.value.attempts == 2 and len(down.calls) == 2


def test_a_reranker_timeout_is_unavailable_with_the_reason(serve) -> None:
    slow = WordOverlap(error=RerankTimeoutError("read timeout", timeout_s=0.2))
    with SearchClient(serve(FakeSearcher(stage(slow))), timeout_s=5.0, retries=0) as client:
        with pytest.raises(SearchUnavailable) as info:
            client.rerank("q", ["d"])
    assert info.value.backend == "RerankError" and "reranker timed out" in info.value.message


def test_unavailable_says_whether_a_backend_or_the_server_is_down(serve) -> None:
    address = serve(FakeSearcher(error=StoreError("milvus restarting", retriable=True)))
    with SearchClient(address, timeout_s=5.0, retries=0) as client, pytest.raises(SearchUnavailable) as info:
        client.search("q")
    assert info.value.backend == "StoreError" and "milvus restarting" in info.value.message
    nobody = f"127.0.0.1:{free_port()}"
    with SearchClient(nobody, timeout_s=2.0, retries=0) as client:
        with pytest.raises(SearchUnavailable) as info:
            client.search("q")
        assert info.value.backend is None and nobody in info.value.message
        assert client.health(timeout_s=1.0) == "UNREACHABLE"


def test_undecodable_rerank_request_is_invalid_argument(serve) -> None:
    address = serve(FakeSearcher(stage(WordOverlap())))
    with grpc.insecure_channel(address) as channel:
        raw = channel.unary_unary(f"/{SERVICE_NAME}/Rerank", request_serializer=lambda b: b,
                                  response_deserializer=lambda b: b)
        with pytest.raises(grpc.RpcError) as info:
            raw(b"\x0a\x02\xff\xfe", timeout=2)           # query = invalid UTF-8
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_servicer_sets_the_backend_trailing_metadata() -> None:
    class Context:
        trailing: tuple = ()

        def time_remaining(self):
            return None

        def set_trailing_metadata(self, metadata):
            self.trailing = tuple(metadata)

        def abort(self, code, details):
            raise RuntimeError(code, details)

    ctx = Context()
    down = DocumentReranker(stage(WordOverlap(error=RerankError("refused", retriable=True))))
    with pytest.raises(RuntimeError) as info:
        SearchServicer(FakeSearcher(), reranker=down).Rerank(pb.RerankRequest(query="q", documents=["d"]), ctx)
    assert info.value.args[0] == grpc.StatusCode.UNAVAILABLE
    assert ctx.trailing == ((BACKEND_ERROR_KEY, "RerankError"),)
