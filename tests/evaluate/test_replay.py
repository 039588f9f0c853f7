"""Replaying a query log (pure: a scripted searcher): overlap@10, identical top 10, latency old vs new, overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog_search.evaluate import configs as C
from catalog_search.evaluate.data import EvalDataError
from catalog_search.evaluate.replay import load_querylog, markdown, overlap_at, replay, to_json
from catalog_search.retrieve.domain import Hit, InvalidRequest, SearchRequest, SearchResponse, StageScores
from catalog_search.retrieve.querylog import LoggedHit, QueryLogRecord


def _hit(sku: str) -> Hit:
    return Hit(sku=sku, title="", brand="", category="", price=0.0, currency="", in_stock=True, score=1.0,
               scores=StageScores())


def _record(rid: str, query: str, skus: list[str], total: float, **options) -> QueryLogRecord:
    return QueryLogRecord(request_id=rid, ts_ms=1, query=query, hits=[LoggedHit(s, 1.0) for s in skus],
                          timings_ms={"total": total}, options={"top_k": 10, **options})


class Scripted:
    def __init__(self, answers: dict[str, list[str]], total_ms: float = 5.0) -> None:
        self.answers, self.total_ms = answers, total_ms
        self.requests: list[SearchRequest] = []

    def search(self, req: SearchRequest) -> SearchResponse:
        self.requests.append(req)
        if req.query == "bad":
            raise InvalidRequest("query", "refused")
        return SearchResponse(hits=[_hit(s) for s in self.answers[req.query]], timings_ms={"total": self.total_ms},
                              corrected_query="x" if req.spell_correct else "")


def test_overlap_at_10() -> None:
    assert overlap_at([], []) == 1.0
    assert overlap_at(list("abcdefghij"), list("jihgfedcba")) == 1.0        # order does not matter
    assert overlap_at(list("abcd"), list("abxy")) == 0.5
    assert overlap_at(list("ab"), list("abcd")) == 0.5                     # over the longer list
    assert overlap_at(list("abcdefghijk"), list("abcdefghijz")) == 1.0     # only the top 10 count
    assert overlap_at(list("a"), []) == 0.0


def test_replay_compares_each_logged_answer_with_the_new_one() -> None:
    records = [_record("r1", "drill", list("abcdefghij"), 20.0), _record("r2", "hose", list("abcd"), 40.0),
               _record("r3", "bad", ["a"], 30.0)]
    searcher = Scripted({"drill": list("abcdefghij"), "hose": list("abxy")})
    result = replay(searcher, records, name="new")
    d = result.as_dict()
    assert (d["requests"], d["replayed"], d["refused"]) == (3, 2, 1)
    assert d["overlap@10"] == 0.75 and d["identical_top10"] == 0.5
    assert d["latency_ms"]["old"] == {"p50": 30.0, "p95": 39.0} and d["latency_ms"]["new"]["p50"] == 5.0
    assert d["lowest_overlap"][0] == {"overlap": 0.5, "request_id": "r2", "query": "hose"}
    assert [r.top_k for r in searcher.requests] == [10, 10, 10]
    text = markdown([result], {"records": 3})
    assert "| `new` |" in text and "0.7500" in text and "'hose' (0.5)" in text
    assert to_json([result], {"records": 3})["replay"]["new"]["overlap@10"] == 0.75


def test_a_config_overrides_what_it_names_and_keeps_the_rest() -> None:
    records = [_record("r1", "drill", ["a"], 1.0, fusion="weighted", alpha=0.35, candidates=50)]
    searcher = Scripted({"drill": ["a"]})
    configs = C.available(False)
    replay(searcher, records, overrides=configs["hybrid-rrf+spell"].overrides())
    replay(searcher, records, overrides=configs["default"].overrides())
    rrf, default = searcher.requests
    assert (rrf.fusion, rrf.spell_correct, rrf.candidates, rrf.retrievers) == ("rrf", True, 50, "both")
    assert (default.fusion, default.alpha, default.spell_correct) == ("weighted", 0.35, None)


def test_load_querylog(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_bytes(_record("r1", "q", ["a"], 1.0).to_json() + b"\n\n" + _record("r2", "q", [], 2.0).to_json())
    assert [r.request_id for r in load_querylog(path)] == ["r1", "r2"]
    path.write_text("{}\n", encoding="utf-8")
    with pytest.raises(EvalDataError, match="log.jsonl:1: not a query-log record"):
        load_querylog(path)
    path.write_text("\n", encoding="utf-8")
    with pytest.raises(EvalDataError, match="no query-log records"):
        load_querylog(path)


def test_spell_configs_are_asked_for_by_name() -> None:
    names = [c.name for c in C.select([], False)]
    assert "default" in names and not any(n.endswith("+spell") for n in names)
    spell = C.select(["default+spell", "bm25+spell"], False)
    assert [c.spell for c in spell] == [True, True]
    assert spell[0].request("q").spell_correct is True and C.select(["bm25"], False)[0].request("q").spell_correct \
        is False
    assert C.select(["default"], False)[0].request("q").spell_correct is None
    assert "dense+spell" not in C.available(True)
    assert "default+rerank+spell" in C.available(True)
    with pytest.raises(ValueError, match="needs a reranker"):
        C.select(["default+rerank+spell"], False)
