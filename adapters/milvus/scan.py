"""Reading a whole collection (what a reindex copies): its dense dim and every row, a page at a time.

Functions take a connected ``MilvusClient``; errors are mapped here (``errors.mapped``), once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from catalog_search.adapters.milvus import schema as S
from catalog_search.adapters.milvus.errors import NO_CLIENT_RETRY, is_lite_empty_result, mapped
from catalog_search.adapters.milvus.rows import row_to_product
from catalog_search.core.product import Product

log = logging.getLogger(__name__)


def collection_exists(client: Any, name: str, timeout: float) -> bool:
    with mapped(f"has_collection {name}"):
        return bool(client.has_collection(name, timeout=timeout, **NO_CLIENT_RETRY))


def collection_dim(client: Any, name: str, timeout: float) -> int | None:
    """The dense dim of ``name`` (None when it has no dense field); a missing collection is a ``StoreError``."""
    with mapped(f"describe {name}"):
        return S.dense_dim(client.describe_collection(name, timeout=timeout, **NO_CLIENT_RETRY))


def partition_key(client: Any, name: str, timeout: float) -> str | None:
    """The partition-key field of ``name`` (None: it has none); a missing collection is a ``StoreError``."""
    with mapped(f"describe {name}"):
        return S.partition_key(client.describe_collection(name, timeout=timeout, **NO_CLIENT_RETRY))


def iter_rows(client: Any, name: str, *, page_rows: int, timeout: float, lite: bool,
              missing: frozenset[str] = frozenset()) -> Iterator[list[Product]]:
    """Every row of ``name`` (tombstones too, dense vector included) through a query iterator, page by page;
    ``missing``: fields the collection predates, not asked for."""
    fields = [f for f in S.PRODUCT_FIELDS if f not in missing]
    with mapped(f"read {name}"):
        try:
            iterator = client.query_iterator(name, batch_size=page_rows, filter="",
                                             output_fields=[*fields, S.DENSE], timeout=timeout,
                                             consistency_level="Strong")
        except Exception as exc:
            if lite and is_lite_empty_result(exc):     # Lite 2.5.1: an empty collection raises at the first page
                return
            raise
    try:
        while True:
            with mapped(f"read {name}"):
                try:
                    rows = iterator.next()
                except Exception as exc:
                    if lite and is_lite_empty_result(exc):   # Lite 2.5.1: the empty last page raises
                        return
                    raise
            if not rows:
                return
            yield [row_to_product(row) for row in rows]
    finally:
        try:
            iterator.close()
        except Exception as exc:  # noqa: BLE001 - closing must not hide the real outcome
            log.debug("closing the query iterator: %s", exc)


def iter_texts(client: Any, name: str, *, page_rows: int, timeout: float, lite: bool) -> Iterator[list[str]]:
    """Title and brand (one string each, brand only when set) of every live row of ``name``, page by page."""
    with mapped(f"read texts of {name}"):
        try:
            iterator = client.query_iterator(name, batch_size=page_rows, filter=f"{S.DELETED} == false",
                                             output_fields=[S.TITLE, S.BRAND], timeout=timeout)
        except Exception as exc:
            if lite and is_lite_empty_result(exc):
                return
            raise
    try:
        while True:
            with mapped(f"read texts of {name}"):
                try:
                    rows = iterator.next()
                except Exception as exc:
                    if lite and is_lite_empty_result(exc):
                        return
                    raise
            if not rows:
                return
            yield [text for row in rows for text in (row.get(S.TITLE) or "", row.get(S.BRAND) or "") if text]
    finally:
        try:
            iterator.close()
        except Exception as exc:  # noqa: BLE001
            log.debug("closing the query iterator: %s", exc)
