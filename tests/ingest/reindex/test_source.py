"""The reindex source through the ``CatalogStore`` protocol (in-memory store; Milvus holds the same contract):
missing or foreign live collections are ``ConfigError``s an operator can act on, rows come page by page."""

from __future__ import annotations

import numpy as np
import pytest

from catalog_search.core.errors import ConfigError
from catalog_search.core.product import Product
from catalog_search.ingest.reindex.source import live_dim, live_rows
from tests.support.memory_store import MemoryStore


def _store() -> MemoryStore:
    store = MemoryStore(collection="v1", alias="catalog", dim=4)
    store.ensure_collection()
    return store


def test_live_dim_of_the_live_collection_and_config_errors_otherwise() -> None:
    store = _store()
    assert live_dim(store, "v1") == 4
    with pytest.raises(ConfigError, match="'catalog' points at 'gone', which does not exist"):
        live_dim(store, "gone")


def test_live_rows_pages_every_row_with_vectors_and_tombstones() -> None:
    store = _store()
    store.upsert([Product(sku=f"S{i}", version=1, vector=np.full(4, i, dtype=np.float32)) for i in range(5)])
    store.upsert([Product(sku="S0", version=2, deleted=True)])
    pages = list(live_rows(store, "v1", page_rows=2))
    assert [len(p) for p in pages] == [2, 2, 1]
    rows = {p.sku: p for page in pages for p in page}
    assert rows["S0"].deleted and rows["S4"].vector.tolist() == [4.0] * 4
