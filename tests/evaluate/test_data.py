"""Judged-set loaders: good files load; malformed rows name file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog_search.evaluate.data import EvalDataError, load_products, load_qrels, load_queries


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_good_files(tmp_path):
    products = write(tmp_path, "p.jsonl", '{"sku": "1", "title": "Hammer"}\n\n{"sku": "2", "title": "Saw"}\n'
                     '{"sku": "1", "title": "Hammer"}\n')
    assert load_products(products) == ["1", "2"]
    assert load_queries(write(tmp_path, "q.tsv", "q1\tclaw hammer\nq2\tsaw\n")) == {"q1": "claw hammer", "q2": "saw"}
    assert load_qrels(write(tmp_path, "r.tsv", "q1\t1\t3\nq1\t2\t0\nq2\t2\t2\n")) == {"q1": {"1": 3, "2": 0},
                                                                                        "q2": {"2": 2}}


@pytest.mark.parametrize("text, message", [
    ('{"sku": "1", "title": "a"}\n{"sku": "2"\n', "p.jsonl:2: not valid JSON"),
    ('["sku"]\n', "p.jsonl:1: expected a JSON object"),
    ('{"sku": "1"}\n', "p.jsonl:1: missing or empty string field 'title'"),
    ('{"sku": 5, "title": "x"}\n', "p.jsonl:1: missing or empty string field 'sku'"),
    ("\n", "p.jsonl: no products"),
])
def test_bad_products(tmp_path, text, message):
    with pytest.raises(EvalDataError, match=message):
        load_products(write(tmp_path, "p.jsonl", text))


@pytest.mark.parametrize("text, message", [
    ("q1\thammer\nq2 saw\n", "q.tsv:2: expected 2 tab-separated fields"),
    ("q1\thammer\tx\n", "q.tsv:1: expected 2 tab-separated fields"),
    ("q1\t \n", "q.tsv:1: empty qid or query text"),
    ("q1\ta\nq1\tb\n", "q.tsv:2: duplicate qid 'q1'"),
])
def test_bad_queries(tmp_path, text, message):
    with pytest.raises(EvalDataError, match=message):
        load_queries(write(tmp_path, "q.tsv", text))


@pytest.mark.parametrize("text, message", [
    ("q1\t1\n", "r.tsv:1: expected 3 tab-separated fields"),
    ("q1\t1\t3\nq1\t2\thigh\n", "r.tsv:2: grade must be an integer, got 'high'"),
    ("q1\t1\t-1\n", "r.tsv:1: grade must be >= 0"),
    ("q1\t\t1\n", "r.tsv:1: empty qid or sku"),
    ("q1\t1\t3\nq1\t1\t2\n", r"r.tsv:2: conflicting grades for \(q1, 1\)"),
])
def test_bad_qrels(tmp_path, text, message):
    with pytest.raises(EvalDataError, match=message):
        load_qrels(write(tmp_path, "r.tsv", text))


def test_missing_and_non_utf8(tmp_path):
    with pytest.raises(EvalDataError, match="no such file"):
        load_queries(tmp_path / "nope.tsv")
    bad = tmp_path / "b.tsv"
    bad.write_bytes(b"q1\t\xff\xfe\n")
    with pytest.raises(EvalDataError, match="not UTF-8"):
        load_queries(bad)
