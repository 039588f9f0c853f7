"""The rerank stage of retrieval: call the reranker within the request deadline, or degrade — never fail.

``RerankStage.run`` returns a ``RerankOutcome``:

* no reranker configured -> ``scores=None``, not degraded, ``model_id="none"`` (the fused order is final);
* breaker open -> degraded ``"reranker circuit open (N consecutive failures)"``, the reranker is not called;
* less than ``margin_s`` left of the deadline -> degraded ``"no time left for rerank"``;
* otherwise the reranker gets ``timeout_s = time_left - margin_s``; a ``RerankError`` (timeout, outage, bad
  response) counts as a breaker failure and degrades (``"reranker timed out after 0.12s"`` /
  ``"reranker unavailable: ..."``); a success closes the breaker.

Degraded outcomes have ``scores=None``: the caller keeps the fused order and reports the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from catalog_search.core.errors import RerankError, RerankTimeoutError
from catalog_search.core.rerank import Reranker
from catalog_search.rerank.breaker import CircuitBreaker

if TYPE_CHECKING:
    from catalog_search.core.settings import RerankSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RerankOutcome:
    scores: list[float] | None
    degraded_reason: str = ""
    model_id: str = ""

    @property
    def degraded(self) -> bool:
        return bool(self.degraded_reason)


class RerankStage:
    """Deadline- and breaker-aware wrapper around an optional ``Reranker`` (see the module docstring)."""

    def __init__(self, reranker: Reranker | None, *, breaker: CircuitBreaker, margin_s: float,
                 instruction: str | None = None) -> None:
        if margin_s < 0:
            raise ValueError("margin_s must be >= 0")
        self.reranker = reranker
        self.instruction = instruction          # the <Instruct> a call gets when it passes none
        self.breaker = breaker
        self.margin_s = margin_s

    @property
    def model_id(self) -> str:
        return "none" if self.reranker is None else self.reranker.model_id

    def run(self, query: str, documents: Sequence[str], *, instruction: str | None = None,
            time_left_s: float | None) -> RerankOutcome:
        reranker = self.reranker
        if reranker is None:
            return RerankOutcome(None, "", "none")
        model_id = reranker.model_id
        if not documents:
            return RerankOutcome([], "", model_id)
        if self.breaker.state == "open":
            return self._circuit_open(model_id)
        timeout_s: float | None = None
        if time_left_s is not None:
            timeout_s = time_left_s - self.margin_s
            if timeout_s <= 0:
                return RerankOutcome(None, "no time left for rerank", model_id)
        # Checked after the deadline so that a half-open breaker's single trial is spent on a real call only.
        if not self.breaker.allow():
            return self._circuit_open(model_id)
        try:
            scores = reranker.rerank(query, documents, timeout_s=timeout_s,
                                     instruction=self.instruction if instruction is None else instruction)
            if len(scores) != len(documents):
                raise RerankError(f"reranker returned {len(scores)} scores for {len(documents)} documents",
                                  retriable=False)
        except RerankError as exc:
            self.breaker.record_failure()
            if isinstance(exc, RerankTimeoutError):
                spent = timeout_s if timeout_s is not None else exc.timeout_s
                reason = f"reranker timed out after {spent:.2f}s" if spent is not None else "reranker timed out"
            else:
                reason = f"reranker unavailable: {exc}"
            log.warning("rerank degraded: %s", reason)
            return RerankOutcome(None, reason, model_id)
        except Exception as exc:   # a bug or an unmapped backend fault: degrade, never fail the search
            self.breaker.record_failure()
            log.exception("reranker raised an unexpected error")
            return RerankOutcome(None, f"reranker unavailable: {type(exc).__name__}: {exc}", model_id)
        self.breaker.record_success()
        return RerankOutcome(list(scores), "", model_id)

    def _circuit_open(self, model_id: str) -> RerankOutcome:
        failures = self.breaker.consecutive_failures
        return RerankOutcome(None, f"reranker circuit open ({failures} consecutive failures)", model_id)

    def close(self) -> None:
        if self.reranker is not None:
            self.reranker.close()


def make_rerank_stage(settings: RerankSettings, reranker: Reranker | None) -> RerankStage:
    """A ``RerankStage`` around ``reranker`` (None: no reranker configured) with the configured breaker and margin."""
    breaker = CircuitBreaker(settings.breaker_failures, settings.breaker_reset_s)
    return RerankStage(reranker, breaker=breaker, margin_s=settings.timeout_margin_ms / 1000.0,
                       instruction=settings.instruction)
