"""Setting up a physical catalog collection: create it if missing, check it is a catalog collection of the right
dense dim, build the indexes a crashed earlier set-up left out.

Functions take a connected ``MilvusClient`` and raise raw pymilvus exceptions (``MilvusStore.ensure_collection``
maps them) or a non-retriable ``StoreError`` for a collection that can never be used as configured.
"""

from __future__ import annotations

import logging
from typing import Any

from catalog_search.core.errors import StoreError
from catalog_search.adapters.milvus import schema as S
from catalog_search.adapters.milvus.errors import NO_CLIENT_RETRY, is_already_exists

log = logging.getLogger(__name__)


def create_if_missing(client: Any, name: str, *, dim: int, dense_index: S.DenseIndex, timeout_s: float,
                      analyzer: str = S.DEFAULT_ANALYZER, tenant_partitions: int = 0) -> None:
    """Create the collection's schema (indexes follow in ``ensure_indexes``); losing a creation race is fine.

    ``tenant_partitions`` > 0 makes ``tenant`` the partition key over that many partitions (never on Milvus Lite:
    the caller passes 0 there, see ``schema``)."""
    if client.has_collection(name, timeout=timeout_s, **NO_CLIENT_RETRY):
        return
    keyed = tenant_partitions > 0
    extra = {"num_partitions": tenant_partitions} if keyed else {}
    try:
        client.create_collection(name, schema=S.build_schema(client, dim, analyzer, tenant_partition_key=keyed),
                                 timeout=timeout_s, **extra, **NO_CLIENT_RETRY)
        log.info("created collection %s (dim %d, dense %s, BM25 analyzer %s, %s)", name, dim, dense_index, analyzer,
                 f"tenant partition key over {tenant_partitions} partitions" if keyed else "no partition key")
    except Exception as exc:
        if not is_already_exists(exc):
            raise


def check_catalog_collection(client: Any, name: str, *, dim: int, timeout_s: float,
                             analyzer: str | None = None, tenant_partitions: int = 0) -> None:
    """Refuse a collection without the catalog fields or with another dense dim (neither passes on its own); warn
    when its BM25 analyzer is not the configured one (it keeps working; only a reindex changes an analyzer), and
    say so when a tenant partition key is configured but the collection predates it (a reindex migrates it)."""
    desc = client.describe_collection(name, timeout=timeout_s, **NO_CLIENT_RETRY)
    missing = {S.SKU, S.DENSE, S.SPARSE, S.EMBED_TEXT, S.VERSION, S.DELETED} - S.field_names(desc)
    if missing:
        raise StoreError(f"collection {name!r} exists but is not a catalog collection (missing fields "
                         f"{sorted(missing)}); use another CATALOG_MILVUS_COLLECTION", retriable=False)
    existing_dim = S.dense_dim(desc)
    if existing_dim != dim:
        raise StoreError(f"collection {name!r} has dense dim {existing_dim} but the embedder produces {dim}; "
                         "write to a new collection (CATALOG_MILVUS_COLLECTION) and reindex, or fix "
                         "CATALOG_EMBED_DIM", retriable=False)
    existing_analyzer = S.text_analyzer(desc)
    if analyzer is not None and existing_analyzer != analyzer:
        log.warning("collection %r was built with BM25 analyzer %s, not the configured %s; it keeps its own "
                    "until a reindex to a new collection", name, existing_analyzer or "unknown", analyzer)
    if tenant_partitions > 0 and S.partition_key(desc) is None:
        log.info("collection %r has no tenant partition key (created before it, or on Milvus Lite); tenant filters "
                 "still apply; `catalog-search reindex --to NEW` builds a collection with it", name)


def ensure_indexes(client: Any, name: str, *, dense_index: S.DenseIndex, lite: bool, timeout_s: float) -> None:
    """Create indexes a crashed earlier ``ensure_collection`` left out (dense and sparse are required to load);
    a scalar index the server rejects is skipped with a warning."""
    existing = set(client.list_indexes(name, timeout=timeout_s, **NO_CLIENT_RETRY))
    specs = S.index_specs(dense_index, lite=lite)
    missing = {spec["index_name"] for spec in specs} - existing
    if not missing:
        return
    if existing:  # a half-built collection may be loaded; index changes need it released
        try:
            client.release_collection(name, timeout=timeout_s, **NO_CLIENT_RETRY)
        except Exception:  # noqa: BLE001 - not loaded is fine
            pass
    for spec in specs:
        if spec["index_name"] not in missing:
            continue
        try:
            client.create_index(name, S.index_params(dense_index, lite=lite, client=client,
                                                     only={spec["index_name"]}),
                                timeout=timeout_s, **NO_CLIENT_RETRY, sync=False)   # load waits for the build
        except Exception as exc:
            if spec["field_name"] in (S.DENSE, S.SPARSE) and not is_already_exists(exc):
                raise
            log.warning("skipping scalar index on %s.%s: %s", name, spec["field_name"], exc)
