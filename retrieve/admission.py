"""Admission control: beyond capacity, refuse early (RESOURCE_EXHAUSTED) instead of doing work that misses its
deadline.

A search (or rerank) runs only while it holds one of ``max_inflight`` slots. A call waits for a slot at most until
its deadline minus the time a search is expected to take (the median of recent admitted calls' durations, times
``headroom`` for their spread); a free slot is always taken. A call that cannot get a slot in time, or already
has less time left than that when all slots are busy, is refused before any work with RESOURCE_EXHAUSTED and says
why. Calls without a deadline wait at most ``max_wait_s``. So under overload the
server keeps serving about its capacity in answers that meet their deadline (goodput) rather than spending its
CPU on answers nobody waits for any more. Health and reflection calls are never queued.

``Admission`` is plain Python (unit-tested with a fake clock); ``AdmissionInterceptor`` is its gRPC edge.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import grpc

OPEN_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")


class Shed(Exception):
    """This call was refused before doing any work; the message says why."""


class Admission:
    """``max_inflight`` slots; ``expected_s``: the median duration of the last ``window`` admitted calls."""

    def __init__(self, max_inflight: int, *, max_wait_s: float = 5.0, window: int = 64, headroom: float = 1.25,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if max_inflight < 1:
            raise ValueError("max_inflight must be >= 1")
        self.max_inflight = max_inflight
        self.max_wait_s = max_wait_s
        self.headroom = headroom
        self._slots = threading.BoundedSemaphore(max_inflight)
        self._clock = clock
        self._lock = threading.Lock()
        self._durations: deque[float] = deque(maxlen=window)
        self.admitted = 0
        self.shed = 0

    @property
    def expected_s(self) -> float:
        """What an admitted call is expected to take: the recent median (0 before any call). A median, so one
        slow call (the first search loading the model) does not make the server refuse everything after it."""
        with self._lock:
            durations = sorted(self._durations)
        return durations[len(durations) // 2] if durations else 0.0

    def acquire(self, time_left_s: float | None) -> float:
        """Take a slot; returns the start time to pass to ``release``. A free slot is always taken (no queue: the
        deadline is the call's own business); otherwise the call waits while its deadline can still be met and
        raises ``Shed`` when it cannot."""
        if not self._slots.acquire(blocking=False):
            expected = self.expected_s * self.headroom
            if time_left_s is not None and time_left_s <= expected:
                self._count_shed()
                raise Shed(f"overloaded: all {self.max_inflight} search slots busy, {time_left_s * 1000:.0f} ms "
                           f"left and a search takes ~{expected * 1000:.0f} ms")
            wait = self.max_wait_s if time_left_s is None else time_left_s - expected
            if not self._slots.acquire(timeout=wait):
                self._count_shed()
                raise Shed(f"overloaded: all {self.max_inflight} search slots busy for {wait * 1000:.0f} ms "
                           f"(a search takes ~{expected * 1000:.0f} ms)")
        with self._lock:
            self.admitted += 1
        return self._clock()

    def release(self, started: float) -> None:
        took = self._clock() - started
        self._slots.release()
        with self._lock:
            self._durations.append(took)

    def _count_shed(self) -> None:
        with self._lock:
            self.shed += 1


class AdmissionInterceptor(grpc.ServerInterceptor):
    """Runs every unary call except health/reflection inside one ``Admission`` slot; a shed call ends with
    RESOURCE_EXHAUSTED and ``on_shed(method)`` is told (metrics)."""

    def __init__(self, admission: Admission, on_shed: Callable[[str], None] | None = None) -> None:
        self.admission = admission
        self.on_shed = on_shed

    def intercept_service(self, continuation: Callable[[Any], Any], details: Any) -> Any:
        handler = continuation(details)
        if handler is None or handler.unary_unary is None or details.method.startswith(OPEN_PREFIXES):
            return handler
        rpc, inner, admission, on_shed = details.method.rsplit("/", 1)[-1], handler.unary_unary, self.admission, \
            self.on_shed

        def admitted(request: Any, context: grpc.ServicerContext) -> Any:
            try:
                started = admission.acquire(context.time_remaining())
            except Shed as exc:
                if on_shed is not None:
                    on_shed(rpc)
                context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, str(exc))
            try:
                return inner(request, context)
            finally:
                admission.release(started)

        return grpc.unary_unary_rpc_method_handler(admitted, request_deserializer=handler.request_deserializer,
                                                   response_serializer=handler.response_serializer)
