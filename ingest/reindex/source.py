"""Where the new collection's rows come from: the live collection (read whole through the ``CatalogStore``, vectors
included), with the checks that turn a missing or foreign collection into a ``ConfigError`` an operator can act on."""

from __future__ import annotations

from collections.abc import Iterator

from catalog_search.core.errors import ConfigError
from catalog_search.core.product import Product
from catalog_search.core.store import CatalogStore

PAGE_ROWS = 1000


def live_dim(store: CatalogStore, collection: str) -> int:
    """The dense dim of an existing catalog collection (``ConfigError`` when it is missing or not one)."""
    if not store.collection_exists(collection):
        raise ConfigError(f"the alias {store.alias!r} points at {collection!r}, which does not exist")
    dim = store.collection_dim(collection)
    if dim is None:
        raise ConfigError(f"{collection!r} is not a catalog collection (no dense vector field)")
    return dim


def live_rows(store: CatalogStore, collection: str, *, page_rows: int = PAGE_ROWS) -> Iterator[list[Product]]:
    """Every row of ``collection`` (live rows and tombstones, dense vector included), a page at a time.

    Not a point-in-time snapshot: rows written meanwhile may be read old or new. Either is at least as recent as the
    offsets captured before, and the catch-up replays everything after those offsets (stale versions skipped).
    """
    return store.iter_rows(collection, page_rows=page_rows)
