"""Milvus calls behind ``MilvusStore``'s ``SearchStore`` methods (one attempt each, mapped to ``StoreError``).

They take a filter expression (``adapters.milvus.filters.build_filter``); ``MilvusStore`` builds it from the domain
filter. ``ann_dense`` and ``bm25`` can return each hit's display fields in the same call (``output_fields``), so a
search needs no separate fetch of what it shows. ``fetch_vectors`` serves the searcher's exact path: every matching row with its dense vector, scored by
the searcher itself, so no ANN approximation (HNSW's recall drop under selective filters) can hide a match.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from functools import partial
from typing import Any

import numpy as np

from catalog_search.core.errors import StoreError

from catalog_search.adapters.milvus import schema as S
from catalog_search.adapters.milvus.errors import NO_CLIENT_RETRY, is_lite_empty_result, mapped
from catalog_search.adapters.milvus.rows import in_filter
from catalog_search.core.store import Ranked, Retrieved, StoredHit

QUERY_LIMIT_MAX = 16_384          # Milvus' limit on query/search ``limit`` (topk)
HIT_FIELDS: tuple[str, ...] = (S.SKU, S.TITLE, S.BRAND, S.CATEGORY, S.PRICE, S.CURRENCY, S.IN_STOCK, S.EMBED_TEXT,
                               S.GROUP_ID, S.LOCALE, S.VERSION, S.UPDATED_AT_MS)


def _query(client: Any, collection: str, expr: str, fields: list[str], limit: int, timeout: float,
           what: str) -> list[dict[str, Any]]:
    with mapped(f"{what} on {collection}"):
        try:
            return client.query(collection, filter=expr, output_fields=fields, limit=limit, timeout=timeout,
                                 **NO_CLIENT_RETRY)
        except Exception as exc:
            if is_lite_empty_result(exc):      # Milvus Lite 2.5.1: an empty result on ARRAY collections raises
                return []
            raise


def count_matching(client: Any, collection: str, expr: str, timeout: float) -> int:
    with mapped(f"count on {collection}"):
        rows = client.query(collection, filter=expr, output_fields=["count(*)"], timeout=timeout, **NO_CLIENT_RETRY)
    return int(rows[0]["count(*)"]) if rows else 0


def fetch_vectors(client: Any, collection: str, expr: str, *, limit: int,
                  timeout: float) -> tuple[list[str], np.ndarray]:
    """Every row matching ``expr`` (up to ``limit``): its sku and dense vector (an empty 0x0 matrix for none)."""
    rows = _query(client, collection, expr, [S.SKU, S.DENSE], min(limit, QUERY_LIMIT_MAX), timeout, "exact fetch")
    if not rows:
        return [], np.zeros((0, 0), dtype=np.float32)
    skus = [r[S.SKU] for r in rows]
    vectors = np.asarray([r[S.DENSE] for r in rows], dtype=np.float32).reshape(len(rows), -1)
    return skus, vectors


def hit_fields(with_text: bool, missing: frozenset[str] = frozenset()) -> list[str]:
    """The output fields a search asks for: the display fields, plus ``embed_text`` when a reranker will read it;
    none the collection predates (``missing``)."""
    return [f for f in HIT_FIELDS if f not in missing and (with_text or f != S.EMBED_TEXT)]


def _search(client: Any, collection: str, data: list[Any], field: str, params: dict[str, Any], expr: str,
            limit: int, timeout: float, what: str, fields: Sequence[str] = ()) -> tuple[Ranked, dict[str, StoredHit]]:
    with mapped(f"{what} on {collection}"):
        result = client.search(collection, data=data, anns_field=field, filter=expr,
                               limit=min(limit, QUERY_LIMIT_MAX), search_params=params,
                               output_fields=list(fields), timeout=timeout, **NO_CLIENT_RETRY)
    hits = result[0] if result else []
    ranked = [(str(h["id"]), float(h["distance"])) for h in hits]
    rows = {str(h["id"]): _hit({S.SKU: str(h["id"]), **h["entity"]}) for h in hits} if fields else {}
    return ranked, rows


def ann_dense(client: Any, collection: str, expr: str, query: np.ndarray, *, limit: int, timeout: float,
              fields: Sequence[str] = (), params: dict[str, Any] | None = None) -> tuple[Ranked, dict[str, StoredHit]]:
    """Dense ANN search; the COSINE "distance" Milvus returns is the cosine similarity (higher = closer).
    With ``fields`` (``hit_fields``) each hit's display fields come back in the same call (no hydrate trip)."""
    vector = np.asarray(query, dtype=np.float32).reshape(-1).tolist()
    return _search(client, collection, [vector], S.DENSE, params or {"metric_type": S.DENSE_METRIC}, expr, limit,
                   timeout, "dense search", fields)


def bm25(client: Any, collection: str, expr: str, text: str, *, limit: int, timeout: float,
         fields: Sequence[str] = ()) -> tuple[Ranked, dict[str, StoredHit]]:
    """BM25 over ``embed_text`` (the collection's BM25 function analyses ``text`` like the documents).

    Milvus Lite 2.5.1 fails a BM25 search when no row matches the filter (its average document length is 0, the
    scores NaN: "Invalid sparse row: NaN or Inf value"; while rows are being written its statistics can also come
    out negative: "Invalid sparse row: negative value"); confirmed by a count, that is an empty answer. With
    matches it is a transient state of Lite's statistics: a retriable error (the caller's retry layer decides).
    """
    try:
        return _search(client, collection, [text], S.SPARSE, S.sparse_search_params(), expr, limit, timeout,
                       "bm25 search", fields)
    except StoreError as exc:
        if "Invalid sparse row" not in str(exc):
            raise
        if count_matching(client, collection, expr, timeout) == 0:
            return [], {}
        raise StoreError(f"{exc} (Milvus Lite's BM25 statistics, transient)", retriable=True) from exc


def retrieve(client: Any, collection: str, expr: str, *, vector: np.ndarray | None, text: str | None, limit: int,
             with_text: bool, timeout: float, pool: Executor | None = None,
             params: dict[str, Any] | None = None, missing: frozenset[str] = frozenset()) -> Retrieved:
    """Dense and BM25 searches with the hit fields as ``output_fields`` (no hydrate trip).

    With ``pool`` the BM25 side runs there while this thread runs the dense side; without, one after the other;
    either way within one ``timeout``.
    """
    fields = hit_fields(with_text, missing)
    deadline = time.monotonic() + timeout
    timings: dict[str, float] = {}

    def timed(stage: str, search: Callable[..., tuple[Ranked, dict[str, StoredHit]]], data: Any,
              **extra: Any) -> tuple[Ranked, dict[str, StoredHit]]:
        started = time.perf_counter()
        try:
            return search(client, collection, expr, data, limit=limit, fields=fields,
                          timeout=max(deadline - time.monotonic(), 0.001), **extra)
        finally:
            timings[stage] = round((time.perf_counter() - started) * 1000.0, 3)

    dense = partial(timed, "dense", ann_dense, vector, params=params)
    sparse = partial(timed, "bm25", bm25, text)

    nothing: tuple[Ranked, dict[str, StoredHit]] = ([], {})
    if pool is not None and vector is not None and text is not None:
        later = pool.submit(sparse)
        d = dense()
        b = later.result()
    else:
        d = dense() if vector is not None else nothing
        b = sparse() if text is not None else nothing
    return Retrieved(dense=d[0], bm25=b[0], hits={**b[1], **d[1]}, timings_ms=timings)


def hydrate(client: Any, collection: str, expr: str, skus: Sequence[str], *, timeout: float,
            missing: frozenset[str] = frozenset()) -> dict[str, StoredHit]:
    """The hit fields of ``skus`` that still match ``expr`` (a product deleted meanwhile drops out); ``missing``:
    fields the collection predates (``MilvusStore.missing_fields``), not asked for."""
    if not skus:
        return {}
    where = f"{in_filter(S.SKU, list(skus))} and ({expr})"
    fields = hit_fields(True, missing)
    rows = _query(client, collection, where, fields, len(skus), timeout, "hydrate")
    return {r[S.SKU]: _hit(r) for r in rows}


def _hit(row: dict[str, Any]) -> StoredHit:
    return StoredHit(sku=row[S.SKU], title=row[S.TITLE], brand=row[S.BRAND], category=row[S.CATEGORY],
                     price=float(row[S.PRICE]), currency=row[S.CURRENCY], in_stock=bool(row[S.IN_STOCK]),
                     embed_text=row.get(S.EMBED_TEXT), group_id=row.get(S.GROUP_ID) or "",
                     locale=row.get(S.LOCALE) or "", version=int(row.get(S.VERSION) or 0),
                     updated_at_ms=int(row.get(S.UPDATED_AT_MS) or 0))


def dense_index_type(client: Any, collection: str, timeout: float) -> str:
    """The index type of ``collection``'s dense field (``FLAT``, ``HNSW``, ...)."""
    with mapped(f"describe the dense index of {collection}"):
        info = client.describe_index(collection, S.DENSE, timeout=timeout, **NO_CLIENT_RETRY)
    return str((info or {}).get("index_type", "")).upper()
