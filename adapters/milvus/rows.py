"""Milvus rows <-> ``Product``, and the filter-expression literals that select rows by primary key."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from catalog_search.core import limits
from catalog_search.core.errors import StoreError
from catalog_search.core.product import Product
from catalog_search.adapters.milvus import schema as S
from catalog_search.core.utf8 import utf8_prefix


def escape_string(value: str) -> str:
    """A Milvus expression string literal (double quoted, JSON escapes are valid Milvus/Go escapes)."""
    return json.dumps(value, ensure_ascii=False)


def in_filter(field: str, values: Sequence[str]) -> str:
    return f"{field} in [{', '.join(escape_string(v) for v in values)}]"


def product_to_row(p: Product, *, dim: int, collection: str) -> dict[str, Any]:
    """The row of ``p`` for a collection of ``dim`` dense dims; a tombstone without a vector gets zeros.

    ``embed_text`` is ``p.embedded_text`` as given (the ingest plan computed it), cut to the field's byte limit.
    """
    if p.vector is None:
        if not p.deleted:
            raise StoreError(f"sku {p.sku!r}: live product without a vector cannot be stored", retriable=False)
        vector = [0.0] * dim
    else:
        arr = np.asarray(p.vector, dtype=np.float32).reshape(-1)
        if arr.shape[0] != dim:
            raise StoreError(f"sku {p.sku!r}: vector has {arr.shape[0]} dims, collection {collection!r} "
                             f"has {dim}", retriable=False)
        vector = arr.tolist()
    text = utf8_prefix(p.embedded_text, limits.EMBED_TEXT_MAX_BYTES)
    return {
        S.SKU: p.sku,
        S.TENANT: p.tenant,
        S.LOCALE: p.locale,
        S.TITLE: p.title,
        S.DESCRIPTION: p.description,
        S.EMBED_TEXT: text,
        S.BRAND: p.brand,
        S.CATEGORY: p.category,
        S.CATEGORY_LEVELS: p.category_levels[: limits.CATEGORY_MAX_LEVELS],
        S.PRICE: float(p.price),
        S.CURRENCY: p.currency,
        S.IN_STOCK: bool(p.in_stock),
        S.ATTRIBUTES: dict(p.attributes),
        S.VERSION: int(p.version),
        S.DELETED: bool(p.deleted),
        S.TEXT_HASH: p.text_hash,
        S.UPDATED_AT_MS: int(p.updated_at_ms),
        S.GROUP_ID: p.group,                  # a product without a group is its own group
        S.DENSE: vector,
    }


def row_to_product(row: dict[str, Any]) -> Product:
    """The ``Product`` of a row queried with ``S.PRODUCT_FIELDS`` and the dense vector (float32 kept as is)."""
    attributes = row.get(S.ATTRIBUTES) or {}
    if isinstance(attributes, (str, bytes)):
        attributes = json.loads(attributes)
    return Product(
        sku=row[S.SKU],
        version=int(row[S.VERSION]),
        deleted=bool(row[S.DELETED]),
        tenant=row.get(S.TENANT, ""),
        locale=row.get(S.LOCALE, ""),
        title=row.get(S.TITLE, ""),
        description=row.get(S.DESCRIPTION, ""),
        brand=row.get(S.BRAND, ""),
        category=row.get(S.CATEGORY, ""),
        price=float(row.get(S.PRICE, 0.0)),
        currency=row.get(S.CURRENCY, ""),
        in_stock=bool(row.get(S.IN_STOCK, False)),
        attributes=attributes,
        text_hash=row.get(S.TEXT_HASH, ""),
        embedded_text=row.get(S.EMBED_TEXT, ""),
        updated_at_ms=int(row.get(S.UPDATED_AT_MS, 0)),
        group_id=row.get(S.GROUP_ID) or "",   # absent in collections older than the field
        vector=np.asarray(row[S.DENSE], dtype=np.float32),
    )
