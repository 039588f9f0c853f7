"""Admission control: a call that cannot meet its deadline is refused before any work; slots bound the work."""

from __future__ import annotations

import threading
import time

import grpc
import pytest

from catalog_search.retrieve.admission import Admission, Shed


def timed_call(adm: Admission, now: list[float], took: float) -> None:
    started = adm.acquire(1.0)
    now[0] += took
    adm.release(started)


def test_the_expected_search_time_is_the_recent_median():
    now = [0.0]
    adm = Admission(2, clock=lambda: now[0])
    assert adm.expected_s == 0.0
    for took in (5.0, 0.2, 0.3):              # the first search loads the model: one outlier
        timed_call(adm, now, took)
    assert adm.expected_s == pytest.approx(0.3)
    assert (adm.admitted, adm.shed) == (3, 0)


def test_a_free_slot_is_always_taken_so_one_slow_search_cannot_refuse_everything_after_it():
    """Regression: with a mean estimate, a 5 s first search made every later 2 s call shed, and with no call
    admitted the estimate never came down (the load suite saw 100 % RESOURCE_EXHAUSTED)."""
    now = [0.0]
    adm = Admission(2, clock=lambda: now[0])
    timed_call(adm, now, 5.0)
    started = adm.acquire(2.0)                 # 2 s left, the only sample 5 s: still admitted, a slot is free
    adm.release(started)


def test_when_slots_are_busy_a_call_with_less_time_left_than_a_search_takes_is_shed_at_once():
    now = [0.0]
    adm = Admission(1, clock=lambda: now[0])
    timed_call(adm, now, 0.3)                  # x 1.25 headroom: 375 ms
    held = adm.acquire(None)
    with pytest.raises(Shed, match="375 ms"):
        adm.acquire(0.35)
    adm.release(held)
    assert adm.shed == 1


def test_a_call_waits_for_a_slot_only_as_long_as_its_deadline_allows():
    adm = Admission(1)
    held = adm.acquire(None)
    adm.release(held)
    adm._durations.clear()
    adm._durations.append(0.04)                # x 1.25: 50 ms
    held = adm.acquire(None)
    t = time.monotonic()
    with pytest.raises(Shed, match="slots busy"):
        adm.acquire(0.25)
    waited = time.monotonic() - t
    assert 0.15 <= waited < 1.0                # ~ time left - expected, not until the deadline
    threading.Timer(0.1, adm.release, args=(held,)).start()
    adm.release(adm.acquire(2.0))              # a slot freed in time: admitted


def test_the_server_sheds_with_resource_exhausted_and_keeps_health_open(tmp_path):
    """A real gRPC server whose searcher is slow (a stand-in: the point is the server's queueing)."""
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from catalog_search.core.settings import load_settings
    from catalog_search.retrieve import server as server_mod
    from catalog_search.retrieve.client import SearchClient, SearchError
    from catalog_search.retrieve.domain import SearchResponse

    class SlowSearcher:
        def search(self, req, *, time_left_s=None):
            time.sleep(0.3)
            return SearchResponse(hits=[], degraded=False, degraded_reason="", timings_ms={}, models={})

    settings = load_settings(grpc_max_inflight=1)
    handle = server_mod.start(settings, SlowSearcher(), address="127.0.0.1:0")
    try:
        client = SearchClient(f"127.0.0.1:{handle.port}", timeout_s=0.5, retries=0)
        client.search("warm")                                # teaches the server a search takes ~300 ms
        codes: list[str] = []

        def one() -> None:
            try:
                client.search("drill")
                codes.append("OK")
            except SearchError as exc:
                codes.append(exc.code.name)

        threads = [threading.Thread(target=one) for _ in range(6)]
        for t in threads:
            t.start()
        with grpc.insecure_channel(f"127.0.0.1:{handle.port}") as channel:
            status = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=0.5)
        for t in threads:
            t.join()
        assert status.status == health_pb2.HealthCheckResponse.SERVING
        assert "RESOURCE_EXHAUSTED" in codes and "OK" in codes, codes
        assert "DEADLINE_EXCEEDED" not in codes, codes         # refused early, not left to time out
    finally:
        handle.stop(0)
