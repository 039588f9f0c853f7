"""RerankStage: deadline, breaker and degradation (unit tests with a fake reranker)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from catalog_search.core.errors import RerankError
from catalog_search.core.settings import load_settings
from catalog_search.rerank.breaker import CircuitBreaker
from catalog_search.core.errors import RerankTimeoutError
from catalog_search.rerank.stage import RerankOutcome, RerankStage, make_rerank_stage


class FakeReranker:
    def __init__(self, *, fail: Exception | None = None) -> None:
        self.fail = fail
        self.calls: list[tuple[str, list[str], str | None, float | None]] = []
        self.closed = False

    @property
    def model_id(self) -> str:
        return "fake-reranker"

    def rerank(self, query: str, documents: Sequence[str], *, instruction: str | None = None,
               timeout_s: float | None = None) -> list[float]:
        self.calls.append((query, list(documents), instruction, timeout_s))
        if self.fail is not None:
            raise self.fail
        return [1.0 / (1 + i) for i in range(len(documents))]

    def close(self) -> None:
        self.closed = True


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def stage(reranker: FakeReranker | None, *, failures: int = 2, margin_s: float = 0.05,
          clock: Clock | None = None) -> RerankStage:
    breaker = CircuitBreaker(failures, 30.0, clock=clock or Clock())
    return RerankStage(reranker, breaker=breaker, margin_s=margin_s)


def test_no_reranker_is_not_degraded() -> None:
    out = stage(None).run("q", ["a", "b"], instruction="i", time_left_s=1.0)
    assert out == RerankOutcome(None, "", "none")
    assert not out.degraded


def test_success_passes_time_left_minus_margin() -> None:
    fake = FakeReranker()
    out = stage(fake, margin_s=0.05).run("q", ["a", "b"], instruction="i", time_left_s=0.25)
    assert out.scores == [1.0, 0.5] and not out.degraded and out.model_id == "fake-reranker"
    (query, docs, instruction, timeout) = fake.calls[0]
    assert (query, docs, instruction) == ("q", ["a", "b"], "i")
    assert timeout == pytest.approx(0.20)


def test_no_deadline_means_no_timeout() -> None:
    fake = FakeReranker()
    assert stage(fake).run("q", ["a"], time_left_s=None).scores == [1.0]
    assert fake.calls[0][3] is None


@pytest.mark.parametrize("time_left", [0.05, 0.01, 0.0, -1.0])
def test_no_time_left(time_left: float) -> None:
    fake = FakeReranker()
    out = stage(fake, margin_s=0.05).run("q", ["a"], time_left_s=time_left)
    assert out.scores is None and out.degraded_reason == "no time left for rerank"
    assert fake.calls == []


def test_timeout_degrades_with_the_time_given() -> None:
    fake = FakeReranker(fail=RerankTimeoutError("slow", timeout_s=0.12))
    out = stage(fake, margin_s=0.05).run("q", ["a"], time_left_s=0.17)
    assert out.scores is None
    assert out.degraded_reason == "reranker timed out after 0.12s"


def test_backend_error_degrades_and_never_raises() -> None:
    fake = FakeReranker(fail=RerankError("reranker HTTP 503: overloaded", retriable=True))
    out = stage(fake).run("q", ["a"], time_left_s=1.0)
    assert out.scores is None
    assert out.degraded_reason == "reranker unavailable: reranker HTTP 503: overloaded"


def test_unexpected_exception_degrades_too() -> None:
    out = stage(FakeReranker(fail=KeyError("boom"))).run("q", ["a"], time_left_s=1.0)
    assert out.scores is None and out.degraded_reason.startswith("reranker unavailable: KeyError")


def test_wrong_number_of_scores_degrades() -> None:
    class Short(FakeReranker):
        def rerank(self, query, documents, *, instruction=None, timeout_s=None):  # type: ignore[no-untyped-def]
            return [0.5]

    out = stage(Short()).run("q", ["a", "b"], time_left_s=1.0)
    assert out.scores is None and "1 scores for 2 documents" in out.degraded_reason


def test_breaker_opens_then_half_open_trial_closes_it() -> None:
    clock = Clock()
    fake = FakeReranker(fail=RerankError("down", retriable=True))
    s = stage(fake, failures=2, clock=clock)
    s.run("q", ["a"], time_left_s=1.0)
    s.run("q", ["a"], time_left_s=1.0)
    out = s.run("q", ["a"], time_left_s=1.0)
    assert out.degraded_reason == "reranker circuit open (2 consecutive failures)"
    assert len(fake.calls) == 2                       # not called while open
    clock.now += 30.0                                 # half-open: one trial
    fake.fail = None
    assert s.run("q", ["a"], time_left_s=1.0).scores == [1.0]
    assert s.breaker.state == "closed" and len(fake.calls) == 3


def test_half_open_trial_is_not_spent_without_time() -> None:
    clock = Clock()
    fake = FakeReranker(fail=RerankError("down", retriable=True))
    s = stage(fake, failures=1, clock=clock)
    s.run("q", ["a"], time_left_s=1.0)
    clock.now += 30.0
    assert s.run("q", ["a"], time_left_s=0.0).degraded_reason == "no time left for rerank"
    fake.fail = None
    assert s.run("q", ["a"], time_left_s=1.0).scores == [1.0]   # the trial was still available


def test_empty_documents() -> None:
    fake = FakeReranker()
    assert stage(fake).run("q", [], time_left_s=1.0) == RerankOutcome([], "", "fake-reranker")
    assert fake.calls == []


def test_stage_from_settings_keeps_breaker_and_margin() -> None:
    fake = FakeReranker()
    s = make_rerank_stage(load_settings(rerank_timeout_margin_ms=80, rerank_breaker_failures=7).rerank, fake)
    assert s.reranker is fake and s.model_id == "fake-reranker" and s.margin_s == pytest.approx(0.08)
    assert s.breaker._failures_to_open == 7
    assert make_rerank_stage(load_settings().rerank, None).model_id == "none"


def test_configured_instruction_is_used_unless_the_call_passes_one() -> None:
    rr = FakeReranker()
    s = make_rerank_stage(load_settings(rerank_instruction="Judge the product").rerank, rr)
    s.run("drill", ["a"], time_left_s=None)
    s.run("drill", ["a"], instruction="Per call", time_left_s=None)
    assert [call[2] for call in rr.calls] == ["Judge the product", "Per call"]
