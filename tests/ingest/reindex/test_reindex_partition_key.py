"""The reindex migrates a collection created before the tenant partition key: the new collection is built by the
same ``ensure_collection`` as any new one (tenant keyed on a Milvus server, a plain field on Milvus Lite, where a
partition-key collection cannot be filtered: tests/adapters/milvus/test_partition_key.py), every row is carried with
its tenant, and a tenant filter through the swapped alias returns that tenant's products only."""

from __future__ import annotations

import contextlib
import uuid

from catalog_search.adapters.milvus import schema as S
from catalog_search.adapters.milvus.store import MilvusStore
from catalog_search.app.reindex_command import reindex_backends
from catalog_search.app.search_wiring import make_searcher
from catalog_search.core.errors import StoreError
from catalog_search.ingest.reindex.run import ReindexOptions, reindex
from catalog_search.retrieve.domain import SearchFilters, SearchRequest

ROWS = 40


def test_reindex_of_an_old_schema_collection_yields_one_keyed_on_tenant(reindex_env) -> None:
    env = reindex_env
    old_name = f"old_{uuid.uuid4().hex[:10]}"
    live = env.settings.replace(milvus_collection=old_name, milvus_tenant_partitions=0)     # before the key
    old = MilvusStore.from_settings(live)
    try:
        old.ensure_collection()
        rows = [p for page in old.iter_rows(env.live) for p in page if not p.deleted][:ROWS]
        rows = [p.with_changes(tenant="shop-a" if i % 2 else "shop-b") for i, p in enumerate(rows)]
        old.upsert(rows)
        old.set_alias(old.alias, old_name)
        assert old.partition_key() is None

        new = live.replace(milvus_collection=env.target, milvus_tenant_partitions=16)
        result = reindex(live, new, ReindexOptions(gate=None, kafka=False), backends=reindex_backends())
        assert result.swapped and "copying stored vectors" in result.vectors and result.build.rows == ROWS
        with MilvusStore.from_settings(new) as store:
            assert store.alias_target() == env.target
            assert store.partition_key(env.target) == (None if store.is_lite else S.TENANT)
            carried = store.fetch([p.sku for p in rows])
            assert {sku: p.tenant for sku, p in carried.items()} == {p.sku: p.tenant for p in rows}

        searcher = make_searcher(live)               # reads the alias: the new collection
        try:
            for tenant in ("shop-a", "shop-b"):
                hits = searcher.search(SearchRequest(query="black", top_k=ROWS, rerank=False,
                                                     filters=SearchFilters(tenant=tenant))).hits
                assert hits and {carried[h.sku].tenant for h in hits} == {tenant}
        finally:
            searcher.close()
    finally:
        with contextlib.suppress(StoreError):
            old.drop_collection(old_name)
        old.close()
