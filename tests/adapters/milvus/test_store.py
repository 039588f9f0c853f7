"""MilvusStore: configuration (unit) and a real Milvus Lite 2.5 server (integration)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from pymilvus import AnnSearchRequest, MilvusClient, RRFRanker

from catalog_search.core.errors import ConfigError, StoreError
from catalog_search.core.filters import SearchFilters
from catalog_search.app.localstack import MilvusLiteServer, free_port
from catalog_search.core.product import Product, embed_text
from catalog_search.core.settings import load_settings
from catalog_search.adapters.milvus import schema as S
from catalog_search.adapters.milvus import store as M
from catalog_search.core.store import StoreCounts, VectorStore
from catalog_search.adapters.milvus.store import MilvusStore
from tests.adapters.milvus.products import DIM, product, vec

MakeStore = Callable[..., MilvusStore]


# ---------------------------------------------------------------------------------------------------------------
# unit
# ---------------------------------------------------------------------------------------------------------------

def _offline_store(**kw: object) -> MilvusStore:
    args: dict[str, object] = {"uri": "http://127.0.0.1:1", "collection": "c_v1", "alias": "c", "dim": DIM}
    args.update(kw)
    return MilvusStore(**args)  # type: ignore[arg-type]


def test_is_a_vector_store_and_from_settings() -> None:
    settings = load_settings(milvus_uri="http://h:1", milvus_collection="x_v2", milvus_alias="x",
                             milvus_index="FLAT", milvus_timeout_s=3, embed_attributes=("color",))
    store = MilvusStore.from_settings(settings)
    assert isinstance(store, VectorStore)
    assert (store.uri, store.collection, store.alias, store.dim, store.index_setting, store.timeout_s) == \
        ("http://h:1", "x_v2", "x", 384, "FLAT", 3)
    assert store._client is None          # lazy: constructing never connects


@pytest.mark.parametrize("kw", [{"collection": "bad-name"}, {"alias": "1x"}, {"alias": "c_v1"}, {"dim": 1},
                                {"index": "DISKANN"}])
def test_invalid_config(kw: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        _offline_store(**kw)


# ---------------------------------------------------------------------------------------------------------------
# integration: Milvus Lite 2.5.1 TCP server
# ---------------------------------------------------------------------------------------------------------------

def test_ensure_collection_is_idempotent(milvus_store: MakeStore) -> None:
    store = milvus_store()
    assert store.dense_index == ("FLAT" if store.is_lite else "HNSW")
    c = store.client
    indexes = set(c.list_indexes(store.collection))
    assert {S.DENSE, S.SPARSE, S.DELETED, S.TENANT} <= indexes
    store.ensure_collection()
    store.ensure_collection()
    assert set(c.list_indexes(store.collection)) == indexes
    assert c.get_load_state(store.collection)["state"].name == "Loaded"
    assert store.resolve_alias() == store.collection
    assert S.dense_dim(c.describe_collection(store.collection)) == DIM
    assert store.counts() == StoreCounts(live=0, tombstoned=0)


def test_ensure_collection_repairs_missing_indexes(milvus_store: MakeStore) -> None:
    store = milvus_store(ensure=False)
    store.client.create_collection(store.collection, schema=S.build_schema(store.client, DIM))  # crashed half-way
    store.ensure_collection()
    assert {S.DENSE, S.SPARSE, S.PRICE} <= set(store.client.list_indexes(store.collection))
    store.upsert([product("a")])
    assert set(store.fetch(["a"])) == {"a"}


def test_a_collection_older_than_group_id_is_still_read_and_written(milvus_store: MakeStore,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    """Collections built before variant grouping lack ``group_id``: every read leaves it out (each product is its
    own group), writes drop it, and the log says how to get a current collection (a reindex)."""
    store = milvus_store(ensure=False)
    old = S.build_schema(store.client, DIM)
    old._fields = [f for f in old.fields if f.name != S.GROUP_ID]          # the schema before the field
    store.client.create_collection(store.collection, schema=old)
    with caplog.at_level("WARNING"):
        store.ensure_collection()
    assert S.GROUP_ID not in S.field_names(store.client.describe_collection(store.collection))
    assert store.missing_fields(store.collection) == {S.GROUP_ID}
    assert "catalog-search reindex" in caplog.text and "group_id" in caplog.text
    store.upsert([product("a", group_id="G", brand="Sony"), product("b")])
    got = store.fetch(["a", "b"])
    assert got["a"].group_id == "" and got["a"].group == "a" and got["a"].brand == "Sony"
    hits = store.hydrate(store.collection, SearchFilters(), ["a", "b"], timeout=10)
    assert {h.sku: h.group_id for h in hits.values()} == {"a": "", "b": ""}
    found = store.retrieve(store.collection, SearchFilters(), vector=vec(1.0, 0.5), text="title", limit=5,
                           with_text=False, timeout=10)
    assert set(found.hits) == {"a", "b"} and found.hits["a"].group_id == ""
    assert sorted(p.sku for page in store.iter_rows(store.collection) for p in page) == ["a", "b"]


def test_dim_mismatch_is_a_clear_non_retriable_error(milvus_store: MakeStore) -> None:
    store = milvus_store(dim=DIM)
    other = milvus_store(dim=16, collection=store.collection, alias=store.alias, ensure=False)
    with pytest.raises(StoreError, match=rf"dense dim {DIM} but the embedder produces 16") as err:
        other.ensure_collection()
    assert not err.value.retriable


def test_foreign_collection_is_rejected(milvus_store: MakeStore) -> None:
    store = milvus_store(ensure=False)
    store.client.create_collection(store.collection, dimension=DIM)     # quick-setup collection: id + vector
    with pytest.raises(StoreError, match="not a catalog collection") as err:
        store.ensure_collection()
    assert not err.value.retriable


def test_upsert_fetch_round_trip(milvus_store: MakeStore) -> None:
    store = milvus_store()
    rng = np.random.default_rng(7)
    shoe = Product(sku="SKU-1", version=3, tenant="shop-cn", locale="zh-CN", title="男士轻便跑步鞋 Air Zoom",
                   description="透气网面，适合日常跑步。Breathable mesh upper.", brand="耐克 Nike",
                   category="运动户外 > 跑步 > 跑鞋", price=599.0, currency="CNY", in_stock=True,
                   attributes={"color": "黑色", "size": [40, 41, 42], "nested": {"k": "値", "n": 1.5}, "ok": True},
                   text_hash="a" * 32, updated_at_ms=1_700_000_000_123, group_id="NIKE-AIR-ZOOM",
                   vector=rng.standard_normal(DIM).astype(np.float32))
    shoe = shoe.with_changes(embedded_text=embed_text(shoe))
    mug = product("SKU-2", title="Ceramic mug", price=12.25, vector=rng.standard_normal(DIM).astype(np.float32))
    store.upsert([shoe, mug])
    got = store.fetch(["SKU-1", "SKU-2", "missing"])
    assert set(got) == {"SKU-1", "SKU-2"}
    assert got["SKU-1"].with_changes(vector=None) == shoe.with_changes(vector=None)
    assert got["SKU-1"].vector.dtype == np.float32
    assert np.array_equal(got["SKU-1"].vector, shoe.vector)         # float32 survives bit for bit
    assert np.array_equal(got["SKU-2"].vector, mug.vector)
    assert got["SKU-2"].price == 12.25
    row = store.client.query(store.collection, filter='sku == "SKU-1"',
                             output_fields=[S.EMBED_TEXT, S.CATEGORY_LEVELS])[0]
    assert row[S.EMBED_TEXT] == shoe.embedded_text               # written as given, read back by fetch
    assert row[S.CATEGORY_LEVELS] == ["运动户外", "运动户外 > 跑步", "运动户外 > 跑步 > 跑鞋"]


def test_upsert_replaces_whole_rows_and_last_duplicate_wins(milvus_store: MakeStore) -> None:
    store = milvus_store()
    store.upsert([product("a", version=1, title="old", attributes={"color": "red"})])
    store.upsert([product("a", version=2, title="mid"), product("a", version=3, title="new", price=2.0)])
    got = store.fetch(["a"])["a"]
    assert (got.version, got.title, got.price, dict(got.attributes)) == (3, "new", 2.0, {})
    assert store.counts() == StoreCounts(live=1, tombstoned=0)
    store.upsert([])                                                 # no-op


def test_writes_are_visible_to_another_client_at_once(milvus_store: MakeStore) -> None:
    writer = milvus_store()
    reader = milvus_store(collection=writer.collection, alias=writer.alias)
    for i in range(5):
        writer.upsert([product(f"s{i}", version=i + 1)])
        assert reader.fetch([f"s{i}"])[f"s{i}"].version == i + 1
    assert reader.counts().live == 5
    writer.close()                                       # each store has its own connection
    assert reader.counts().live == 5
    MilvusClient(reader.uri).close()                     # so does any other client of the same uri
    assert reader.counts().live == 5


def test_tombstones_are_counted_separately(milvus_store: MakeStore) -> None:
    store = milvus_store()
    store.upsert([product("live1"), product("live2"), product("gone1")])
    store.upsert([product("gone1", version=2, deleted=True, vector=None),     # keeps no vector
                  Product(sku="never-live", version=1, deleted=True)])
    assert store.counts() == StoreCounts(live=2, tombstoned=2)
    got = store.fetch(["gone1", "never-live"])
    assert got["gone1"].deleted and got["gone1"].version == 2
    assert np.array_equal(got["never-live"].vector, np.zeros(DIM, dtype=np.float32))


def test_fetch_escapes_skus(milvus_store: MakeStore) -> None:
    store = milvus_store()
    # (control characters are rejected by event validation; Lite's expression parser has no escapes for them)
    skus = ['q"uote', "back\\slash", "trail\\", '\\"', 'x"] or sku != "', "中文-SKU", "emoji 🚀 ü", "plain"]
    store.upsert([product(s) for s in skus])
    assert set(store.fetch(skus)) == set(skus)
    assert set(store.fetch(['x"] or sku != "'])) == {'x"] or sku != "'}      # no injection
    assert store.fetch(['q"uote', 'q"uote'])['q"uote'].sku == 'q"uote'
    assert store.fetch([]) == {}


def test_lite_refuses_single_quote_skus_up_front(milvus_store: MakeStore) -> None:
    store = milvus_store()
    if not store.is_lite:
        store.upsert([product("it's")])
        assert set(store.fetch(["it's"])) == {"it's"}
        return
    with pytest.raises(StoreError, match="single quote") as err:
        store.upsert([product("ok"), product("it's")])
    assert not err.value.retriable
    assert store.fetch(["it's", "ok"]) == {}         # nothing of the batch was written; fetch of such skus works


def test_fetch_in_chunks(milvus_store: MakeStore, monkeypatch: pytest.MonkeyPatch) -> None:
    store = milvus_store()
    store.upsert([product(f"k{i:02d}") for i in range(11)])
    monkeypatch.setattr(M, "FETCH_CHUNK", 3)
    assert set(store.fetch([f"k{i:02d}" for i in range(12)])) == {f"k{i:02d}" for i in range(11)}


def test_alias_registry_resolve_and_switch(milvus_store: MakeStore) -> None:
    v1 = milvus_store()
    assert v1.resolve_alias() == v1.collection
    v2 = milvus_store(collection=f"{v1.collection}_v2", alias=v1.alias)
    v2.ensure_collection()
    assert v2.resolve_alias() == v1.collection            # ensure_collection never re-points an existing alias
    v2.set_alias(v1.alias, v2.collection)                  # the reindex's switch
    assert v1.resolve_alias() == v2.collection
    v2.set_alias(v1.alias, v1.collection)                  # and back, so v2 can be dropped
    assert v2.resolve_alias() == v1.collection
    with pytest.raises(StoreError, match="does not exist yet"):
        v1.resolve_alias("no_such_alias")
    with pytest.raises(StoreError, match="missing collection"):
        v1.set_alias(v1.alias, "no_such_collection")
    v2.drop_collection()


def test_schema_supports_bm25_category_prefix_and_hybrid_search(milvus_store: MakeStore) -> None:
    store = milvus_store(analyzer="multilingual")
    store.upsert([
        product("shoe", title="Men's Running Shoes 男士跑步鞋", category="Shoes > Running", vector=vec(1, 0)),
        product("trail", title="Trail runner", category="Shoes > Running > Trail", vector=vec(0.9, 0.1)),
        product("mug", title="Ceramic coffee mugs 陶瓷咖啡杯", category="Home > Kitchen", vector=vec(0, 1)),
        product("old-mug", title="Ceramic mug", category="Home > Kitchen", deleted=True, vector=vec(0, 1)),
    ])
    coll = store.resolve_alias()
    c = store.client

    def bm25(query: str, expr: str = "deleted == false") -> list[str]:
        hits = c.search(coll, data=[query], anns_field=S.SPARSE, limit=5, filter=expr,
                        search_params=S.sparse_search_params())
        return [h["id"] for h in hits[0]]

    assert bm25("跑步鞋")[0] == "shoe"
    hits = bm25("RUNNING shoe")                            # lowercase + stemming; category path is indexed too
    assert hits[0] == "shoe" and set(hits) == {"shoe", "trail"}
    assert bm25("男士") == ["shoe"]
    assert bm25("the mug") == ["mug"]                      # stop word, no whitespace/punctuation matches
    assert bm25("咖啡杯") == ["mug"]
    assert bm25("a b , c") == []
    prefix = 'array_contains(category_levels, "Shoes > Running") and deleted == false'
    rows = c.query(coll, filter=prefix, output_fields=[S.SKU], consistency_level="Strong")
    assert sorted(r[S.SKU] for r in rows) == ["shoe", "trail"]
    dense = AnnSearchRequest([vec(0, 1).tolist()], S.DENSE, S.search_params(store.dense_index), 5,
                             expr="deleted == false")
    sparse = AnnSearchRequest(["ceramic"], S.SPARSE, S.sparse_search_params(), 5, expr="deleted == false")
    hits = c.hybrid_search(coll, [dense, sparse], RRFRanker(60), limit=3, output_fields=[S.SKU])
    assert hits[0][0]["id"] == "mug" and "old-mug" not in [h["id"] for h in hits[0]]


@pytest.mark.milvus
def test_stopped_server_gives_retriable_store_error(tmp_path: Path) -> None:
    server = MilvusLiteServer(tmp_path, free_port()).start()
    store = MilvusStore(uri=server.uri, collection="c_v1", alias="c", dim=DIM, timeout_s=2)
    try:
        store.ensure_collection()
        store.upsert([product("a")])
        server.stop()
        started = time.monotonic()
        with pytest.raises(StoreError) as err:
            store.upsert([product("b")])
        assert err.value.retriable
        assert isinstance(err.value.__cause__, Exception) and not isinstance(err.value.__cause__, StoreError)
        with pytest.raises(StoreError) as err:
            store.counts()
        assert err.value.retriable
        assert time.monotonic() - started < 30
        # the same store works again once the server is back (data kept in the .db file)
        server = MilvusLiteServer(tmp_path, server.port).start()
        assert set(store.fetch(["a", "b"])) == {"a"}
    finally:
        store.close()
        server.stop()


def test_unreachable_server_on_first_use_is_retriable() -> None:
    store = MilvusStore(uri=f"http://127.0.0.1:{free_port()}", collection="c_v1", alias="c", dim=DIM, timeout_s=1)
    with pytest.raises(StoreError) as err:
        store.ensure_collection()
    assert err.value.retriable
    store.close()


def test_english_analyzer_splits_sizes_and_stems_but_keeps_cjk_runs_whole(milvus_store: MakeStore,
                                                                           caplog: pytest.LogCaptureFixture) -> None:
    store = milvus_store(analyzer="english")
    with caplog.at_level("WARNING", logger="catalog_search.adapters.milvus.store"):
        store.upsert([product("mw", title="Whirlpool 1.9 cu. ft. Over the Range Microwaves", vector=vec(1, 0)),
                      product("pipe", title="3/4 in. x 10 ft. PVC Pipe", vector=vec(0, 1))])
        assert "BM25 analyzer is english" not in caplog.text
        store.upsert([product("zh", title="男士跑步鞋", vector=vec(0, 1))])
    assert "product zh has Chinese/Japanese/Korean text but the BM25 analyzer is english" in caplog.text
    caplog.clear()
    coll, c = store.resolve_alias(), store.client

    def bm25(query: str) -> list[str]:
        hits = c.search(coll, data=[query], anns_field=S.SPARSE, limit=5, filter="deleted == false",
                        search_params=S.sparse_search_params())
        return [h["id"] for h in hits[0]]

    assert bm25("MICROWAVE") == ["mw"]                     # lowercase + stemmer
    assert bm25("9 cu ft")[0] == "mw"                      # "1.9" splits at the dot, "cu." loses it
    assert bm25("pipes 3/4") == ["pipe"]
    assert bm25("跑步鞋") == []                              # no segmentation: only the whole run matches
    assert bm25("男士跑步鞋") == ["zh"]
    # The same collection reopened with the other analyzer configured keeps its own, and says so.
    other = milvus_store(collection=store.collection, alias=store.alias, analyzer="multilingual", ensure=False)
    with caplog.at_level("WARNING", logger="catalog_search.adapters.milvus.collection"):
        other.ensure_collection()
    assert "built with BM25 analyzer english, not the configured multilingual" in caplog.text
    assert bm25("跑步鞋") == []
