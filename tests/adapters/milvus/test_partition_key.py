"""Tenant as the partition key of new collections: the schema (unit), the creation call a Milvus server gets (a
recording client, unit), and what Milvus Lite 2.5.1 does with it (integration: it cannot filter such a collection,
so the store falls back to a plain tenant field there and tenant filters keep working)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from pymilvus import MilvusClient

from catalog_search.adapters.milvus import schema as S
from catalog_search.adapters.milvus.store import MilvusStore
from catalog_search.core.filters import SearchFilters
from catalog_search.core.settings import load_settings
from tests.adapters.milvus.products import DIM, product, vec

MakeStore = Callable[..., MilvusStore]


# ------------------------------------------------------------------------------------------------------------ unit

def _tenant(schema: Any) -> Any:
    return next(f for f in schema.fields if f.name == S.TENANT)


def test_the_schema_marks_tenant_as_partition_key_only_when_asked() -> None:
    assert _tenant(S.build_schema(MilvusClient, DIM, tenant_partition_key=True)).is_partition_key
    assert not _tenant(S.build_schema(MilvusClient, DIM)).is_partition_key
    keyed = {"fields": [{"name": S.SKU, "is_primary": True}, {"name": S.TENANT, "is_partition_key": True}]}
    assert S.partition_key(keyed) == S.TENANT
    assert S.partition_key({"fields": [{"name": S.SKU, "is_primary": True}, {"name": S.TENANT}]}) is None


class RecordingServer:
    """Just enough of ``MilvusClient`` for ``ensure_collection`` on a Milvus *server* (GetVersion answers)."""

    create_schema = staticmethod(MilvusClient.create_schema)

    def __init__(self) -> None:
        self.created: dict[str, Any] = {}
        self.collections: dict[str, Any] = {}

    def get_server_version(self, **_: Any) -> str:
        return "v2.6.16"

    def has_collection(self, name: str, **_: Any) -> bool:
        return name in self.collections

    def create_collection(self, name: str, *, schema: Any, **kw: Any) -> None:
        self.created = {"name": name, "schema": schema, **kw}
        self.collections[name] = schema.to_dict()

    def describe_collection(self, name: str, **_: Any) -> dict[str, Any]:
        return self.collections[name]

    def list_indexes(self, name: str, **_: Any) -> list[str]:
        return [spec["index_name"] for spec in S.index_specs("HNSW", lite=False)]

    def load_collection(self, *_: Any, **__: Any) -> None:
        pass

    def list_aliases(self, *_: Any, **__: Any) -> dict[str, Any]:
        return {"aliases": ["c"]}

    def describe_alias(self, alias: str, **_: Any) -> dict[str, Any]:
        return {"alias": alias, "collection_name": "c_v1"}


@pytest.mark.parametrize(("partitions", "keyed"), [(16, True), (0, False)])
def test_a_server_collection_is_created_with_the_tenant_partition_key(partitions: int, keyed: bool) -> None:
    settings = load_settings(milvus_uri="http://h:1", milvus_collection="c_v1", milvus_alias="c",
                             milvus_tenant_partitions=partitions)
    store = MilvusStore.from_settings(settings)
    fake = store._client = RecordingServer()
    store.ensure_collection()
    assert fake.created["name"] == "c_v1"
    assert bool(_tenant(fake.created["schema"]).is_partition_key) is keyed
    assert fake.created.get("num_partitions") == (partitions if keyed else None)
    assert store.partition_key() == (S.TENANT if keyed else None)


# ----------------------------------------------------------------------------------------- integration: Milvus Lite

def test_filtered_queries_on_a_partition_key_collection_work_on_a_server_and_fail_on_lite(
        milvus_store: MakeStore) -> None:
    """Why Lite collections never get the key: Lite 2.5.1 creates one but fails every filtered query on it
    (milvus-io/milvus#43163). When this fails on Lite, Lite has learnt it and the fallback can go."""
    store = milvus_store(ensure=False)
    c = store.client
    c.create_collection(store.collection, schema=S.build_schema(c, DIM, tenant_partition_key=True),
                        **({} if store.is_lite else {"num_partitions": 4}))
    assert S.partition_key(c.describe_collection(store.collection)) == S.TENANT     # accepted at creation
    store.ensure_collection()
    store.upsert([product("a", tenant="t1"), product("b", tenant="t2")])

    def query() -> list[str]:
        rows = c.query(store.collection, filter=f'{S.TENANT} == "t1"', output_fields=[S.SKU], limit=5,
                       consistency_level="Strong")
        return [r[S.SKU] for r in rows]

    if store.is_lite:
        with pytest.raises(Exception, match="Invalid expr"):
            query()
    else:
        assert query() == ["a"]


def test_new_collections_key_on_tenant_on_a_server_and_fall_back_on_lite(milvus_store: MakeStore) -> None:
    store = milvus_store(tenant_partitions=16)
    assert store.partition_key() == (None if store.is_lite else S.TENANT)
    store.upsert([product("a1", tenant="shop-a", vector=vec(1.0)), product("a2", tenant="shop-a", vector=vec(0.9, 0.1)),
                  product("b1", tenant="shop-b", vector=vec(1.0))])
    only_a = SearchFilters(tenant="shop-a")
    collection = store.resolve_alias()
    dense = store.dense_search(collection, only_a, vec(1.0), limit=10, timeout=10.0)
    assert [sku for sku, _ in dense] == ["a1", "a2"]                    # the tenant filter still applies
    bm25 = store.bm25_search(collection, SearchFilters(tenant="shop-b"), "title", limit=10, timeout=10.0)
    assert [sku for sku, _ in bm25] == ["b1"]
    store.upsert([product("a2", version=2, tenant="shop-b", vector=vec(0.9, 0.1))])   # a product moves tenant
    assert store.count_matching(collection, only_a, timeout=10.0) == 1
    assert store.count_matching(collection, SearchFilters(tenant="shop-b"), timeout=10.0) == 2
    assert np.allclose(store.fetch(["a2"])["a2"].vector, vec(0.9, 0.1))
