"""Replay a query-log export against a new configuration: how far the answers and the latency moved.

Every logged request (``retrieve.querylog.QueryLogRecord.request``, optionally with a config's overrides) goes
through the searcher once, in log order. Per request: **overlap@10** = |old top 10 ∩ new top 10| divided by the
longer of the two lists (at most 10; 1.0 when both are empty), and whether the top 10 is identical in order. Latency
is the ``total`` of the logged timings (old) against the new response's (new), as p50/p95. Requests the new
configuration refuses (``InvalidRequest``) are counted, not raised. No judgments are needed: this measures change,
not relevance (a drop of overlap says where to look; ``catalog-search eval`` on a judged set says if it is better).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from tqdm import tqdm

from catalog_search.evaluate import metrics as M
from catalog_search.evaluate.data import EvalDataError
from catalog_search.retrieve.domain import InvalidRequest, SearchRequest, SearchResponse
from catalog_search.retrieve.querylog import InvalidRecord, QueryLogRecord

K = 10


class Searches(Protocol):
    def search(self, req: SearchRequest) -> SearchResponse: ...


def load_querylog(path: Path) -> list[QueryLogRecord]:
    """The records of a JSON Lines export (``catalog-search querylog export``); a bad line names file:line."""
    records = []
    try:
        with path.open("r", encoding="utf-8") as f:
            for number, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    records.append(QueryLogRecord.from_json(line))
                except InvalidRecord as exc:
                    raise EvalDataError(f"{path}:{number}: not a query-log record: {exc}") from None
    except FileNotFoundError:
        raise EvalDataError(f"{path}: no such file") from None
    if not records:
        raise EvalDataError(f"{path}: no query-log records")
    return records


def overlap_at(old: Sequence[str], new: Sequence[str], k: int = K) -> float:
    a, b = list(old[:k]), list(new[:k])
    if not a and not b:
        return 1.0
    return len(set(a) & set(b)) / max(len(a), len(b))


@dataclass
class ReplayResult:
    name: str
    description: str
    requests: int = 0
    refused: int = 0                                  # requests the new configuration rejects as invalid
    overlap: list[float] = field(default_factory=list)
    identical: int = 0                                # same top 10 in the same order
    old_total_ms: list[float] = field(default_factory=list)
    new_total_ms: list[float] = field(default_factory=list)
    degraded_old: int = 0
    degraded_new: int = 0
    corrected_new: int = 0
    lowest: list[tuple[float, str, str]] = field(default_factory=list)   # (overlap, request id, query), worst first

    def as_dict(self) -> dict[str, Any]:
        replayed = len(self.overlap)
        return {"description": self.description, "requests": self.requests, "replayed": replayed,
                "refused": self.refused,
                f"overlap@{K}": round(sum(self.overlap) / replayed, 4) if replayed else None,
                f"identical_top{K}": round(self.identical / replayed, 4) if replayed else None,
                "latency_ms": {"old": _percentiles(self.old_total_ms), "new": _percentiles(self.new_total_ms)},
                "degraded": {"old": self.degraded_old, "new": self.degraded_new},
                "corrected_new": self.corrected_new,
                "lowest_overlap": [{"overlap": round(o, 3), "request_id": rid, "query": q} for o, rid, q in self.lowest]}


def _percentiles(values: Sequence[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None}
    return {"p50": round(M.percentile(values, 50), 2), "p95": round(M.percentile(values, 95), 2)}


def replay(searcher: Searches, records: Iterable[QueryLogRecord], *, name: str = "as logged",
           description: str = "each logged request as it was", overrides: Mapping[str, Any] | None = None,
           progress: bool = False, worst: int = 5) -> ReplayResult:
    result = ReplayResult(name, description)
    rows: list[tuple[float, str, str]] = []
    records = list(records)
    for record in tqdm(records, desc=f"replay {name}", unit="q", disable=not progress):
        result.requests += 1
        try:
            resp = searcher.search(record.request(**dict(overrides or {})))
        except InvalidRequest:
            result.refused += 1
            continue
        new = [h.sku for h in resp.hits]
        overlap = overlap_at(record.skus, new)
        result.overlap.append(overlap)
        result.identical += record.skus[:K] == new[:K]
        if "total" in record.timings_ms:
            result.old_total_ms.append(record.timings_ms["total"])
        if "total" in resp.timings_ms:
            result.new_total_ms.append(resp.timings_ms["total"])
        result.degraded_old += record.degraded
        result.degraded_new += resp.degraded
        result.corrected_new += bool(resp.corrected_query)
        rows.append((overlap, record.request_id, record.query))
    result.lowest = sorted(rows, key=lambda r: r[0])[:worst]
    return result


def to_json(results: Sequence[ReplayResult], meta: Mapping[str, Any]) -> dict[str, Any]:
    return {"meta": dict(meta), "replay": {r.name: r.as_dict() for r in results}}


def markdown(results: Sequence[ReplayResult], meta: Mapping[str, Any]) -> str:
    head = ["config", "what", "replayed", f"overlap@{K}", f"identical top {K}", "old total p50/p95 ms",
            "new total p50/p95 ms", "refused"]
    lines = ["# Query-log replay", "", "| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for r in results:
        d = r.as_dict()
        old, new = d["latency_ms"]["old"], d["latency_ms"]["new"]
        cells = [f"`{r.name}`", r.description, str(d["replayed"]), _fmt(d[f"overlap@{K}"]),
                 _fmt(d[f"identical_top{K}"]), f"{_fmt(old['p50'], '.1f')} / {_fmt(old['p95'], '.1f')}",
                 f"{_fmt(new['p50'], '.1f')} / {_fmt(new['p95'], '.1f')}", str(d["refused"])]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", f"- overlap@{K}: shared products of the logged and the new top {K}, over the longer list.",
              "- " + ", ".join(f"{k}: {v}" for k, v in meta.items())]
    for r in results:
        if r.lowest and r.lowest[0][0] < 1.0:
            worst = "; ".join(f"{q!r} ({o:.1f})" for o, _, q in r.lowest if o < 1.0)
            lines.append(f"- `{r.name}` lowest overlap: {worst}")
    return "\n".join([*lines, ""])


def _fmt(value: float | None, spec: str = ".4f") -> str:
    return "-" if value is None else format(value, spec)

