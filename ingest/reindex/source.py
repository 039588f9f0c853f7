"""Where the new collection's rows come from: the live collection (query iterator, vectors included) or a file."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from catalog_search.core.errors import ConfigError
from catalog_search.core.product import Product
from catalog_search.adapters.milvus import schema as S
from catalog_search.adapters.milvus.store import MilvusStore
from catalog_search.adapters.milvus.errors import NO_CLIENT_RETRY, is_lite_empty_result, mapped
from catalog_search.adapters.milvus.rows import row_to_product

log = logging.getLogger(__name__)
PAGE_ROWS = 1000


def live_dim(store: MilvusStore, collection: str) -> int:
    """The dense dim of an existing catalog collection (``ConfigError`` when it is missing or not one)."""
    c = store.client
    with mapped(f"describe {collection}"):
        if not c.has_collection(collection, timeout=store.timeout_s, **NO_CLIENT_RETRY):
            raise ConfigError(f"the alias {store.alias!r} points at {collection!r}, which does not exist")
        dim = S.dense_dim(c.describe_collection(collection, timeout=store.timeout_s, **NO_CLIENT_RETRY))
    if dim is None:
        raise ConfigError(f"{collection!r} is not a catalog collection (no {S.DENSE!r} field)")
    return dim


def collection_exists(store: MilvusStore, collection: str) -> bool:
    with mapped(f"has_collection {collection}"):
        return bool(store.client.has_collection(collection, timeout=store.timeout_s, **NO_CLIENT_RETRY))


def live_rows(store: MilvusStore, collection: str, *, page_rows: int = PAGE_ROWS) -> Iterator[list[Product]]:
    """Every row of ``collection`` (live rows and tombstones, dense vector included), a page at a time.

    Not a point-in-time snapshot: rows written meanwhile may be read old or new. Either is at least as recent as the
    offsets captured before, and the catch-up replays everything after those offsets in version order.
    """
    c = store.client
    with mapped(f"read {collection}"):
        iterator = c.query_iterator(collection, batch_size=page_rows, filter="",
                                    output_fields=[*S.PRODUCT_FIELDS, S.DENSE], timeout=store.timeout_s,
                                    consistency_level="Strong")
    try:
        while True:
            with mapped(f"read {collection}"):
                try:
                    rows = iterator.next()
                except Exception as exc:
                    if store.is_lite and is_lite_empty_result(exc):   # Lite 2.5.1: the empty last page raises
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
