"""Judged-set loaders: products (JSON Lines), queries (TSV qid, text) and qrels (TSV qid, sku, grade).

The format is the one of ../shared/datasets/homedepot. Malformed rows raise ``EvalDataError`` naming
``file:line`` and the reason; blank lines are skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from catalog_search.core.errors import CatalogError


class EvalDataError(CatalogError):
    """A judged-set file is missing or malformed; the message names file:line."""


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    try:
        with path.open("r", encoding="utf-8") as f:
            for number, line in enumerate(f, start=1):
                line = line.rstrip("\r\n")
                if line.strip():
                    yield number, line
    except FileNotFoundError:
        raise EvalDataError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise EvalDataError(f"{path}: not UTF-8 ({exc})") from None


def load_products(path: Path) -> list[str]:
    """The skus of the products file, in file order; each line must be an object with string ``sku`` and ``title``."""
    skus: list[str] = []
    seen: set[str] = set()
    for number, line in _lines(path):
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise EvalDataError(f"{path}:{number}: not valid JSON ({exc})") from None
        if not isinstance(record, dict):
            raise EvalDataError(f"{path}:{number}: expected a JSON object, got {type(record).__name__}")
        for key in ("sku", "title"):
            if not isinstance(record.get(key), str) or not record[key].strip():
                raise EvalDataError(f"{path}:{number}: missing or empty string field {key!r}")
        if record["sku"] not in seen:
            seen.add(record["sku"])
            skus.append(record["sku"])
    if not skus:
        raise EvalDataError(f"{path}: no products")
    return skus


def load_queries(path: Path) -> dict[str, str]:
    """qid -> query text, in file order (``qid<TAB>text``)."""
    queries: dict[str, str] = {}
    for number, line in _lines(path):
        parts = line.split("\t")
        if len(parts) != 2:
            raise EvalDataError(f"{path}:{number}: expected 2 tab-separated fields (qid, text), got {len(parts)}")
        qid, text = parts[0].strip(), parts[1].strip()
        if not qid or not text:
            raise EvalDataError(f"{path}:{number}: empty qid or query text")
        if qid in queries:
            raise EvalDataError(f"{path}:{number}: duplicate qid {qid!r}")
        queries[qid] = text
    if not queries:
        raise EvalDataError(f"{path}: no queries")
    return queries


def load_qrels(path: Path) -> dict[str, dict[str, int]]:
    """qid -> {sku: grade} (``qid<TAB>sku<TAB>grade``, grade an integer >= 0)."""
    qrels: dict[str, dict[str, int]] = {}
    for number, line in _lines(path):
        parts = line.split("\t")
        if len(parts) != 3:
            raise EvalDataError(f"{path}:{number}: expected 3 tab-separated fields (qid, sku, grade), "
                                f"got {len(parts)}")
        qid, sku, grade_text = (p.strip() for p in parts)
        if not qid or not sku:
            raise EvalDataError(f"{path}:{number}: empty qid or sku")
        try:
            grade = int(grade_text)
        except ValueError:
            raise EvalDataError(f"{path}:{number}: grade must be an integer, got {grade_text!r}") from None
        if grade < 0:
            raise EvalDataError(f"{path}:{number}: grade must be >= 0, got {grade}")
        judged = qrels.setdefault(qid, {})
        if sku in judged and judged[sku] != grade:
            raise EvalDataError(f"{path}:{number}: conflicting grades for ({qid}, {sku}): {judged[sku]} and {grade}")
        judged[sku] = grade
    if not qrels:
        raise EvalDataError(f"{path}: no judgments")
    return qrels
